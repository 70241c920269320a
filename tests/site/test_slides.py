"""The slides (booktools/slides.py): which cells the chapters tag, what the generator writes, and the deck in Chromium.

Two decks are checked in the browser: the one ``make book`` writes into ``_build/html/slides`` (from the
chapters' cells tagged ``slide``), and one built here from a fixture notebook (a markdown cell with glue,
a citation and math, a figure with alt text, a printed table), so the generator is covered whatever the
chapters tag. Both must show every slide with no JavaScript error, request nothing from outside the site
(every URL is the local server, a file:// URL or inline data) and pass axe-core 4 with nothing serious.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from site_fixtures import REPO_ROOT, SITE_DIR, serve, wait_for_math

from booktools import slides
from booktools.chapters import chapters

SERIOUS = {"critical", "serious"}
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS_PER_CHAPTER = range(4, 9)  # the brief: the 4-8 cells a teacher would project
# A 1 x 1 PNG, enough to stand for a figure.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4d40000000049454e44ae426082"
    )
).decode()


def tagged(path: Path) -> int:
    """How many cells of a notebook are tagged ``slide``."""
    notebook = nbformat.read(path, as_version=4)
    return sum(slides.SLIDE_TAG in cell.get("metadata", {}).get("tags", []) for cell in notebook.cells)


@pytest.mark.parametrize("chapter", chapters(), ids=lambda c: c.stem)
def test_every_chapter_tags_four_to_eight_slides(chapter):
    count = tagged(chapter.path)
    assert count in TAGS_PER_CHAPTER, (
        f"{chapter.path.name} tags {count} cells `slide`; tag the 4-8 cells a teacher would project"
    )


# --------------------------------------------------------------------------- a deck from a fixture notebook


def fixture_notebook() -> nbformat.NotebookNode:
    """A small chapter: a title, a tagged markdown slide, a tagged figure, a tagged printout, an untagged cell."""
    glue = nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": "0.8712"},
        metadata={"scrapbook": {"name": "acc", "mime_prefix": "application/papermill.record/"}},
    )
    figure = nbformat.v4.new_code_cell(
        "plt.show()",
        metadata={
            "tags": ["slide"],
            "mystnb": {"image": {"alt": "A single gray pixel."}, "figure": {"caption": "The whole *figure*."}},
        },
        outputs=[nbformat.v4.new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"})],
    )
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Fixture chapter\n\nNot a slide."),
            nbformat.v4.new_markdown_cell(
                "## One idea\n\nThe network scores {glue:text}`acc:.1%` {cite}`lecun1998gradient`; "
                "a ReLU is $\\max(0, a)$.",
                metadata={"tags": ["slide"]},
            ),
            nbformat.v4.new_code_cell("glue('acc', 0.8712)", metadata={"tags": ["remove-cell"]}, outputs=[glue]),
            figure,
            nbformat.v4.new_code_cell(
                "print('conv1 6 maps')",
                metadata={"tags": ["slide"]},
                outputs=[nbformat.v4.new_output("stream", name="stdout", text="conv1 6 maps\n")],
            ),
            nbformat.v4.new_code_cell("print('not shown')"),
        ]
    )


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> Path:
    """A site folder with MathJax (from node_modules) and the deck of a one-chapter fixture book."""
    root = tmp_path_factory.mktemp("slides-book")
    (root / "book").mkdir()
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n    numbered: true\n"
        "    chapters:\n      - file: book/01_fixture\n"
    )
    nbformat.write(fixture_notebook(), root / "book" / "01_fixture.ipynb")
    shutil.copy2(REPO_ROOT / "book" / "teaching.md", root / "book" / "teaching.md")
    site = tmp_path_factory.mktemp("slides-site")
    mathjax = REPO_ROOT / "node_modules" / "mathjax" / "es5"
    if not mathjax.is_dir():
        pytest.fail(f"{mathjax} is missing: run `npm ci` in the repository root (make book does)")
    shutil.copytree(mathjax, site / "_static" / "mathjax")
    counts = slides.build(site, root)
    assert counts == {"01_fixture.ipynb": 3}
    return site


def test_fixture_deck_holds_glue_values_alt_text_and_outputs(fixture_site):
    page = (fixture_site / "slides" / "index.html").read_text(encoding="utf-8")
    assert "87.1%" in page, "the glue role should be replaced by its formatted value"
    assert "{glue" not in page, "the glue role should be replaced by its formatted value"
    assert "(LeCun et al., 1998" in page, "a citation should read author-year"
    assert r"\(\max(0, a)\)" in page, "inline math should be left for MathJax"
    assert 'alt="A single gray pixel."' in page
    assert "<em>figure</em>" in page
    assert "conv1 6 maps" in page
    assert "not shown" not in page
    assert "plt.show()" not in page, "a figure's plotting code is not projected"
    assert (fixture_site / "slides" / "reveal" / "dist" / "reveal.js").is_file()


def test_an_image_without_alt_text_stops_the_build(tmp_path):
    cell = nbformat.v4.new_code_cell(
        "plt.show()",
        metadata={"tags": ["slide"]},
        outputs=[nbformat.v4.new_output("display_data", data={"image/png": PIXEL})],
    )
    with pytest.raises(SystemExit, match="alt text"):
        slides.render_outputs(cell, slides.Renderer({}, "fixture"), "fixture cell 0")


# --------------------------------------------------------------------------- both decks in Chromium

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));
"""

WALK = """
const done = arguments[arguments.length - 1];
const seen = [];
Reveal.slide(0);
const look = () => {
    const slide = Reveal.getCurrentSlide();
    const box = slide.getBoundingClientRect();
    const images = Array.from(slide.querySelectorAll('img'));
    // On screen: what is drawn at the middle of the slide's box belongs to the slide.
    const middle = document.elementFromPoint(box.left + box.width / 2, box.top + Math.min(box.height, innerHeight) / 2);
    seen.push({index: Reveal.getIndices().h,
               visible: box.width > 0 && box.height > 0 && !!middle && middle.closest('section') === slide,
               text: slide.textContent.trim().length,
               broken: images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.alt)});
    if (Reveal.isLastSlide()) { done({seen: seen, total: Reveal.getTotalSlides()}); }
    else { Reveal.next(); setTimeout(look, 20); }
};
look();
"""


def open_deck(driver, url: str) -> None:
    """Open a deck and wait until reveal.js is ready and MathJax has typeset it."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return !!(window.Reveal && Reveal.isReady())"))
    assert wait_for_math(driver), f"{url}: MathJax did not finish (is the site's _static/mathjax there?)"


@pytest.fixture(scope="module")
def fixture_url(fixture_site) -> Iterator[str]:
    """The fixture site served on 127.0.0.1 (as site_url serves the built one), so its requests are timed too."""
    with serve(fixture_site) as url:
        yield url


@pytest.fixture(scope="module", params=["site", "fixture"])
def deck(request, browser) -> tuple[str, object]:
    """(URL, driver) of a deck opened in Chromium: the built site's or the fixture's, each from a local server."""
    if request.param == "site" and not (SITE_DIR / "slides" / "index.html").is_file():
        pytest.fail(f"{SITE_DIR / 'slides' / 'index.html'} is missing; build the site with `make book`")
    base = request.getfixturevalue("site_url" if request.param == "site" else "fixture_url")
    url = base + "slides/index.html"
    open_deck(browser, url)
    return url, browser


def test_every_slide_renders_without_errors(deck):
    url, driver = deck
    walk = driver.execute_async_script(WALK)
    assert walk["total"] == len(walk["seen"]) >= 3, f"{url}: walked {len(walk['seen'])} of {walk['total']} slides"
    empty = [s["index"] for s in walk["seen"] if not s["visible"] or s["text"] == 0]
    broken = [(s["index"], s["broken"]) for s in walk["seen"] if s["broken"]]
    assert not empty, f"{url}: slides shown empty or invisible: {empty}"
    assert not broken, f"{url}: images that did not load: {broken}"
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{url}: JavaScript errors: {errors}"


def test_no_request_leaves_the_site(deck):
    url, driver = deck
    requested = driver.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))"
    )
    local = ("file://", "http://127.0.0.1:", "http://localhost:", "data:", "about:")
    outside = [name for name in requested if not name.startswith(local)]
    assert not outside, f"{url}: requests that leave the site: {outside}"
    # What the page itself names: every script, style sheet, image and frame is in the site or inline.
    named = driver.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[href], img[src], iframe[src]'))"
        ".map(e => e.src || e.href)"
    )
    assert not [name for name in named if not name.startswith(local)], f"{url}: names outside files: {named}"
    assert any("reveal/dist/reveal.js" in name for name in requested), "reveal.js should come from the site"
    assert any("mathjax" in name for name in requested), "MathJax should come from the site"


def test_axe_finds_nothing_serious(deck):
    url, driver = deck
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository root (make book does)")
    driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    assert driver.execute_script("return axe.version").startswith("4.")
    found = []
    for index in range(driver.execute_script("return Reveal.getTotalSlides()")):
        driver.execute_script("Reveal.slide(arguments[0])", index)
        violations = driver.execute_async_script(RUN_AXE)
        assert isinstance(violations, list), f"{url}: axe-core failed: {violations}"
        found += [
            f"slide {index}: [{v['impact']}] {v['id']}: {v['help']} at {json.dumps(n['target'])}"
            for v in violations
            if v["impact"] in SERIOUS
            for n in v["nodes"]
        ]
    assert not found, f"{url}: serious accessibility violations:\n" + "\n".join(sorted(set(found)))
