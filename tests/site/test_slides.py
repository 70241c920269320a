"""The slides (booktools/slides.py) in Chromium at 1280 x 720: every slide has a title and speaker notes, text of
at least 20 px, nothing outside the stage, no request that leaves the site, and the deck ends on its closing slide.

The deck is built here from the book's sources into a temporary folder beside a copy of the built site's MathJax,
so the test needs ``make book``'s MathJax but never rewrites ``_build/html``.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from site_fixtures import REPO_ROOT, SITE_DIR, require_site, serve, wait_for_math

from booktools import session, slides
from booktools.myst import RenderError

STAGE = (1280, 720)
POSITIONS = re.compile(r"\b(above|below|next cell|previous cell|next section)\b|\\\(|\\\[|\b0\d_\w+", re.I)
MIN_FONT_PX = 20
LOCAL = ("http://127.0.0.1:", "data:", "about:")
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"critical", "serious"}
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(Reveal.getCurrentSlide(), {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));
"""

MEASURE = """
const done = arguments[arguments.length - 1];
const found = [];
const inside = (box, stage) => box.left >= stage.left - 1 && box.top >= stage.top - 1
    && box.right <= stage.right + 1 && box.bottom <= stage.bottom + 1;
const look = (index) => {
    if (index === Reveal.getTotalSlides()) { done(found); return; }
    Reveal.slide(index);
    const slide = Reveal.getCurrentSlide();
    const stage = slide.getBoundingClientRect();
    const shown = Array.from(slide.querySelectorAll('*'))
        .filter(e => !e.closest('aside.notes') && e.getClientRects().length);
    const small = [];
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const parent = walker.currentNode.parentElement;
        const size = parseFloat(getComputedStyle(parent).fontSize);
        const shown = walker.currentNode.textContent.trim() && !parent.closest('aside.notes, mjx-container');
        if (shown && size < arguments[0]) {
            small.push(walker.currentNode.textContent.trim().slice(0, 30) + ' (' + size + ' px)');
        }
    }
    const image = slide.querySelector('figure img');
    let share = null;  // the part of the stage the figure's image is drawn on
    if (image) {
        const box = image.getBoundingClientRect();
        const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
        share = image.naturalWidth * image.naturalHeight * scale * scale / (stage.width * stage.height);
    }
    found.push({
        index: index, kind: slide.className.replace('present', '').trim(),
        title: (slide.querySelector('h2') || {textContent: ''}).textContent.trim(),
        notes: (slide.querySelector('aside.notes') || {textContent: ''}).textContent.trim(),
        body: (slide.querySelector('.body') || {textContent: ''}).textContent.trim(),
        stage: [Math.round(stage.width), Math.round(stage.height)],
        overflows: slide.scrollHeight > slide.clientHeight + 1 || slide.scrollWidth > slide.clientWidth + 1,
        outside: shown.filter(e => !inside(e.getBoundingClientRect(), stage)).map(e => e.tagName).slice(0, 3),
        scrolled: shown.filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
            .map(e => e.tagName).slice(0, 3),
        small: small.slice(0, 3), figure: share,
    });
    setTimeout(() => look(index + 1), 20);
};
look(0);
""".replace("arguments[0]", str(MIN_FONT_PX))


@pytest.fixture(scope="module")
def deck_site(tmp_path_factory) -> Path:
    """A folder with the built site's MathJax and the deck built from the book's sources."""
    require_site()
    site = tmp_path_factory.mktemp("deck-site")
    shutil.copytree(SITE_DIR / "_static" / "mathjax", site / "_static" / "mathjax")
    slides.build(site)
    return site


@pytest.fixture(scope="module")
def walked(deck_site, browser) -> Iterator[tuple[list[dict], list[str]]]:
    """Every slide measured at 1280 x 720, and every URL the deck requested."""
    with serve(deck_site) as url:
        browser.get(url + "slides/index.html")
        extra = browser.execute_script("return [outerWidth - innerWidth, outerHeight - innerHeight]")
        browser.set_window_size(STAGE[0] + extra[0], STAGE[1] + extra[1])
        browser.refresh()
        assert wait_for_math(browser), "MathJax did not finish typesetting the deck"
        assert browser.execute_script("return [innerWidth, innerHeight]") == list(STAGE)
        measured = browser.execute_async_script(MEASURE)
        requested = browser.execute_script(
            "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))"
        )
        yield measured, requested


def failing(measured: list[dict], wrong) -> list[str]:
    """The slides for which `wrong(slide)` is true, named by number and title."""
    return [f"slide {s['index'] + 1} ({s['title'][:40]!r}): {wrong(s)}" for s in measured if wrong(s)]


def test_every_slide_is_16_by_9_at_1280_by_720(walked):
    assert not failing(walked[0], lambda s: s["stage"] != list(STAGE) and s["stage"])


def test_every_slide_has_a_title(walked):
    assert not failing(walked[0], lambda s: not s["title"] and "no title")


def test_every_slide_has_speaker_notes_with_the_blocks_minutes(walked):
    measured = walked[0]
    assert not failing(measured, lambda s: not s["notes"] and "no speaker notes")
    minutes = [row[0] for row in session.Session.load(slides.ROOT).plan()[1:]]
    for block in minutes:
        assert any(s["notes"].startswith(f"{block} min") for s in measured), f"no slide's notes give {block}"


def test_each_slide_of_a_block_has_notes_of_its_own(walked):
    notes = [s["notes"] for s in walked[0]]
    repeated = {n[:60] for n in notes if notes.count(n) > 1}
    assert not repeated, f"slides share the same speaker notes: {repeated}"


def test_notes_name_no_position_in_a_chapter_no_file_and_no_raw_latex(walked):
    assert not failing(walked[0], lambda s: (found := POSITIONS.search(s["notes"])) and f"notes say {found[0]!r}")


def test_exercise_slides_notes_give_the_minutes_and_a_hint(walked):
    exercises = [s for s in walked[0] if s["kind"] == "exercise"]
    assert exercises
    assert not failing(exercises, lambda s: not ("minutes" in s["notes"] and "stuck" in s["notes"]) and "no hint")


def test_divider_slides_show_only_the_block_and_its_minutes(walked):
    dividers = [s for s in walked[0] if s["kind"] == "divider"]
    assert len(dividers) == len(session.Session.load(slides.ROOT).plan()) - 1
    assert not failing(dividers, lambda s: not re.fullmatch(r"[\d–]+ min", s["body"]) and s["body"][:40])


def test_links_in_the_notes_lead_to_pages_of_the_site(deck_site):
    page = (deck_site / "slides" / "index.html").read_text(encoding="utf-8")
    notes = "".join(re.findall(r'<aside class="notes">(.*?)</aside>', page, flags=re.S))
    links = re.findall(r'href="([^"]+)"', notes)
    dead = [link for link in links if not (SITE_DIR / "slides" / link.split("#")[0]).resolve().is_file()]
    assert not dead, f"links in the speaker notes lead nowhere on the site: {dead}"


def test_the_shape_trace_shows_its_output_only_after_the_class_predicts(deck_site):
    page = (deck_site / "slides" / "index.html").read_text(encoding="utf-8")
    trace = page.split("<h2>Following one image through the network</h2>")[1].split("</section>")[0]
    assert '<div class="fragment">' in trace.split("<aside")[0]


def test_a_pandas_table_loses_its_index_name_row_and_gains_thousands_separators():
    table = "<thead><tr><th></th><th>total</th></tr><tr><th>layer</th><th></th></tr></thead><tr><td>61706</td></tr>"
    assert slides.tidy(table) == "<thead><tr><th></th><th>total</th></tr></thead><tr><td>61,706</td></tr>"


def test_a_long_list_table_or_printout_is_spread_over_slides_by_part():
    assert slides.excerpt("<ol><li>a</li><li>b</li><li>c</li></ol>", 1, 3) == '<ol start="2"><li>b</li><li>c</li></ol>'
    table = "<table><tbody><tr><td>1</td></tr><tr><td>2</td></tr></tbody></table>"
    assert slides.excerpt(table, 1, 2) == "<table><tbody><tr><td>2</td></tr></tbody></table>"
    assert slides.excerpt("<pre>x\ny\nz\n</pre>", 0, 2) == "<pre>x\ny\n</pre>"
    with pytest.raises(RenderError, match="no table, list or printout"):
        slides.excerpt("<p>prose</p>", 0, 1)


def test_a_wide_printout_keeps_only_the_columns_asked_for_and_shows_nan_as_a_dash():
    lines = [
        "            change  epochs  seconds  gain",
        "step",
        "0     chapter 3's       2        8   NaN",
        "1         pooling       2        9 +2.30",
    ]
    printout = f"<pre>{html.escape(chr(10).join(lines))}\n</pre>"
    kept = "            change  gain\nstep\n0     chapter 3's     –\n1         pooling +2.30"
    assert slides.columns(printout, ["change", "gain"]) == f"<pre>{html.escape(kept)}\n</pre>"
    with pytest.raises(RenderError, match="lacks some of them"):
        slides.columns(printout, ["accuracy"])


def test_no_text_is_smaller_than_20_px(walked):
    assert not failing(walked[0], lambda s: s["small"])


def test_nothing_overflows_a_slide(walked):
    assert not failing(walked[0], lambda s: s["overflows"] and "taller or wider than the stage")
    assert not failing(walked[0], lambda s: s["outside"] and f"outside the stage: {s['outside']}")
    assert not failing(walked[0], lambda s: s["scrolled"] and f"scrolls sideways: {s['scrolled']}")


def test_figures_fill_the_stage(walked):
    figures = [s for s in walked[0] if s["figure"] is not None]
    assert figures, "the deck shows no figure"
    assert not failing(figures, lambda s: s["figure"] < 0.15 and f"the figure covers {s['figure']:.0%} of the stage")


def test_the_deck_covers_formulas_loop_layers_exercises_and_questions(walked):
    titles = [s["title"] for s in walked[0]]
    in_class = session.in_class()
    assert in_class, "the deck plan names no in-class exercise"
    for number in in_class:
        assert any(t.startswith(f"Exercise {number} ") for t in titles), f"no slide for exercise {number}"
    for title in (
        "Why saturation slows learning",
        "The training loop",
        "The network of 1998",
        "Discussion questions",
        "The final model, on the test set",
    ):
        assert any(t.startswith(title) for t in titles), f"no slide titled {title!r}"


def test_the_deck_ends_on_the_closing_slide(walked):
    assert walked[0][-1]["kind"] == "closing"


def test_exercise_slides_show_the_question_not_the_solution(deck_site):
    page = (deck_site / "slides" / "index.html").read_text(encoding="utf-8")
    assert "Solution to" not in page
    assert "Speaker" not in page or "aside" in page


def test_no_request_leaves_the_site(walked):
    requested = walked[1]
    assert not [name for name in requested if not name.startswith(LOCAL)]
    assert any(name.endswith("reveal/dist/plugin/notes.js") for name in requested), "the notes plugin is served"
    assert any("mathjax" in name for name in requested), "MathJax comes from the site"


def test_axe_finds_nothing_serious_on_any_slide(walked, browser):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the repository root (make book does)")
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    found = []
    for index in range(len(walked[0])):
        browser.execute_script("Reveal.slide(arguments[0])", index)
        violations = browser.execute_async_script(RUN_AXE)
        assert isinstance(violations, list), f"axe-core failed: {violations}"
        found += [f"slide {index + 1}: {v['id']}: {v['help']}" for v in violations if v["impact"] in SERIOUS]
    assert not found, "serious accessibility violations:\n" + "\n".join(sorted(set(found)))


def test_a_plan_naming_a_missing_cell_says_which(tmp_path, monkeypatch):
    (tmp_path / "book").mkdir()
    toc = "format: jb-book\nroot: book/teaching\nparts:\n  - numbered: true\n    chapters:\n      - file: book/01_one\n"
    (tmp_path / "_toc.yml").write_text(toc)
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# One")]), tmp_path / "book" / "01_one.ipynb"
    )
    teaching = (
        "## The session plan\n\n| minutes | block |\n| --- | --- |\n| 0–10 | Intro |\n\n### 0–10: intro\n\nTalk.\n"
    )
    (tmp_path / "book" / "teaching.md").write_text(teaching)
    plan = tmp_path / "deck.yml"
    plan.write_text('subtitle: x\nblocks:\n  - minutes: "0–10"\n    slides:\n      - cell: no-such-cell\n')
    monkeypatch.setattr(slides, "DECK", plan)
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-mml-chtml.js").write_text("")
    with pytest.raises(RenderError, match="no-such-cell"):
        slides.build(tmp_path, tmp_path)
