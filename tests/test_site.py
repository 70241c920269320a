"""The built site (_build/html, from `make book`) works in a real browser, page by page of _toc.yml.

Each page of the table of contents is opened once in headless Debian Chromium, served over HTTP from
127.0.0.1 with every other host unreachable; what the browser saw is kept and checked by the tests
below: no JavaScript console errors, no script from outside the site, every formula typeset by the
site's own MathJax, every image loaded from a file of the site, every in-site link (and its
#fragment) resolves, no unresolved glue, the tables of the prose and the display formulas fit a
1280 px window's text column, a Colab button on every chapter pointing at that chapter's Colab edition
(which the build writes into editions/ and the workflow pushes as the branch colab), and a working
search. (tests/test_site_accessibility.py takes screenshots of every page, light and dark, on request.)

Cheap checks that need no browser come first: every page was built, and every {glue} reference in
the sources has a value, and every figure given alt text in a notebook was rendered on its page.
"""

from __future__ import annotations

import json
import posixpath
import re
import time

import nbformat
import pytest
from bs4 import BeautifulSoup
from site_fixtures import (
    EXECUTED_DIR,
    REPO_ROOT,
    SITE_DIR,
    WINDOW,
    book_config,
    chapter_pages,
    element_ids,
    expected_colab_url,
    html_file,
    page_id,
    require_site,
    site_file_for_url,
    source_file,
    toc_pages,
    wait_for_math,
    wait_for_page,
)

PAGES = toc_pages()
CHAPTERS = chapter_pages()
SEARCH_TERM = "LeNet"

# `{glue}`key``, `{glue:text}`key:.2%``, `{glue:figure}`..., and `path::key` for another notebook's glue.
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`")
GLUE_DIRECTIVE = re.compile(r"^[ \t]*(?:`{3,}|:{3,})[ \t]*\{glue(?::[a-z]+)?\}[ \t]+(\S+)", re.MULTILINE)
GLUE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --------------------------------------------------------------------------- static checks


def test_site_is_built():
    """index.html sends the reader to the intro, and the intro carries the book's title."""
    require_site()
    index = BeautifulSoup((SITE_DIR / "index.html").read_text(encoding="utf-8"), "html.parser")
    refresh = index.find("meta", attrs={"http-equiv": "Refresh"})
    assert refresh is not None, "index.html does not send the reader to the first page"
    first = SITE_DIR / refresh["content"].split("url=", 1)[1]
    assert first.is_file(), f"index.html sends the reader to {first}, which was not built"
    page = BeautifulSoup(first.read_text(encoding="utf-8"), "html.parser")
    assert page.title is not None, f"{first.name} has no <title>"
    assert book_config()["title"] in page.title.get_text(), f"{first.name} does not carry the book's title"


def test_the_answer_key_is_nowhere_in_the_built_site():
    """No key notebook, no discussion answers, no link to them on the site: `make key` is the teacher's."""
    require_site()
    notebooks = sorted(path.relative_to(SITE_DIR).as_posix() for path in SITE_DIR.rglob("*.ipynb"))
    assert notebooks
    assert [name for name in notebooks if "/key/" in f"/{name}" or name.endswith("discussion.ipynb")] == []
    for page in SITE_DIR.rglob("*.html"):
        assert "editions/key" not in page.read_text(encoding="utf-8", errors="replace"), page


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_toc_page_is_built(docname):
    source_file(docname)
    require_site()
    assert html_file(docname).is_file(), f"{docname} is in _toc.yml but {html_file(docname)} was not built"


def test_every_page_source_is_in_the_toc():
    """_config.yml builds only the toc's files, so a chapter left out of _toc.yml would silently vanish."""
    sources = sorted(
        str(path.relative_to(REPO_ROOT).with_suffix(""))
        for path in (REPO_ROOT / "book").iterdir()
        if path.suffix in (".ipynb", ".md")
    )
    missing = [name for name in sources if name not in PAGES]
    assert not missing, f"pages in book/ that _toc.yml does not list (they are not built): {missing}"


def markdown_text(docname: str) -> str:
    """The Markdown a page is written in: the whole .md file, or a notebook's markdown cells."""
    path = source_file(docname)
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    notebook = nbformat.read(path, as_version=4)
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def glue_references(docname: str) -> list[tuple[str, str, str]]:
    """(reference as written, docname holding the value, key) for every glue role and directive on a page."""
    text = markdown_text(docname)
    references = []
    for written in GLUE_ROLE.findall(text) + GLUE_DIRECTIVE.findall(text):
        target, rest = docname, written
        if "::" in written:
            other, rest = written.split("::", 1)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(docname), other))
            target = re.sub(r"\.(ipynb|md)$", "", target)
        key = GLUE_KEY.match(rest.strip())
        references.append((written, target, key.group() if key else rest))
    return references


def glued_keys(docname: str) -> set[str]:
    """The glue keys a notebook recorded during the build (myst-nb's <docname>.glue.json)."""
    path = EXECUTED_DIR / f"{docname}.glue.json"
    return set(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else set()


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_glue_reference_has_a_value(docname):
    require_site()
    missing = [
        f"{{glue}}`{written}` (no key {key!r} in {target})"
        for written, target, key in glue_references(docname)
        if key not in glued_keys(target)
    ]
    assert not missing, f"{docname}: unresolved glue, shown as nothing on the page: {missing}"


@pytest.mark.parametrize("docname", CHAPTERS, ids=page_id)
def test_every_figure_with_alt_text_is_on_the_page(docname):
    """A cell that gives its figure alt text must put that figure on the page.

    This catches figures that silently vanish, e.g. a notebook executed with MPLBACKEND=Agg, where
    plt.show() in the kernel produces no output at all.
    """
    require_site()
    notebook = nbformat.read(source_file(docname), as_version=4)
    wanted = [
        " ".join(str(cell.metadata["mystnb"]["image"]["alt"]).split())
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
    ]
    soup = BeautifulSoup(html_file(docname).read_text(encoding="utf-8"), "html.parser")
    on_page = {" ".join(img.get("alt", "").split()) for img in soup.find_all("img")}
    missing = [alt for alt in wanted if alt not in on_page]
    assert not missing, f"{docname}: figures with this alt text are not on the page (no image output?): {missing}"


# --------------------------------------------------------------------------- one visit per page

VISIT_SCRIPT = """
const images = Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src, attr: img.getAttribute('src'), alt: img.getAttribute('alt'),
    complete: img.complete, width: img.naturalWidth}));
const links = Array.from(document.querySelectorAll('a[href]')).map(a => ({
    href: a.href, attr: a.getAttribute('href'), text: a.textContent.trim().slice(0, 60)}));
const prose = document.body.cloneNode(true);
prose.querySelectorAll('pre, code, script, style, .highlight').forEach(node => node.remove());
return {
    title: document.title,
    images: images,
    links: links,
    prose: prose.textContent,
    problems: document.querySelectorAll('.system-message, .problematic').length,
    colab: Array.from(document.querySelectorAll('a[href*="colab.research.google.com"]')).map(a => a.href),
    scripts: Array.from(document.scripts).map(script => script.src).filter(src => src),
    formulas: document.querySelectorAll('.math').length,
    typeset: Array.from(document.querySelectorAll('.math')).filter(m => m.querySelector('mjx-container')).length,
    raw: Array.from(document.querySelectorAll('.math'))
        .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.trim().slice(0, 60)),
    // MathJax gives a display formula wider than the column a scroll bar of its own: the end is cut off.
    wide_formulas: Array.from(document.querySelectorAll('div.math mjx-container'))
        .filter(c => c.scrollWidth > c.clientWidth + 1)
        .map(c => ({width: c.scrollWidth, column: c.clientWidth, formula: c.textContent.trim().slice(0, 60)})),
    // Code a reader sees (cell inputs and code in the prose, not outputs, which scroll by design) fits the column.
    wide_code: Array.from(document.querySelectorAll('article.bd-article div.highlight pre'))
        .filter(pre => !pre.closest('.cell_output') && pre.offsetParent !== null)
        .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
        .map(pre => ({width: pre.scrollWidth, column: pre.clientWidth,
                      longest: Math.max(...pre.textContent.split(String.fromCharCode(10)).map(l => l.length))})),
    code_blocks: Array.from(document.querySelectorAll('article.bd-article div.highlight pre'))
        .filter(pre => !pre.closest('.cell_output') && pre.offsetParent !== null).length,
    // Tables the book writes in its prose (not notebook outputs, which scroll by design): they must fit.
    // The theme wraps each table in a scrolling box the width of the text column; a wider table is cut off.
    tables: Array.from(document.querySelectorAll('article.bd-article table'))
        .filter(table => !table.closest('.cell_output'))
        .map(table => ({width: table.parentElement.scrollWidth, column: table.parentElement.clientWidth,
                        first_row: ((table.querySelector('tr') || {}).textContent || '').trim().slice(0, 60)})),
};
"""


def excused(entry: dict) -> str | None:
    """Why a console entry does not count against the book, or None when it does.

    Nothing else is excused: sphinx-thebe, whose doubled script threw on every page, is off in _config.yml.
    """
    message = entry["message"]
    # Browsers ask every site for /favicon.ico on their own; the book declares no icon, so the request
    # 404s. No page refers to that file, so no reader sees anything missing.
    if re.match(r"https?://127\.0\.0\.1:\d+/favicon\.ico - Failed to load resource: .*\b404\b", message):
        return "the browser's own favicon request"
    return None


@pytest.fixture(scope="module")
def visit(browser, site_url):
    """``visit(docname)`` opens a page once per module and returns what the browser saw there."""
    seen: dict[str, dict] = {}

    def open_page(docname: str) -> dict:
        if docname not in seen:
            if not html_file(docname).is_file():
                pytest.fail(f"{html_file(docname)} was not built")
            browser.get_log("browser")  # drop anything left over from the previous page
            browser.get(f"{site_url}{docname}.html")
            wait_for_page(browser)
            if browser.execute_script("return document.querySelector('.math') !== null"):
                wait_for_math(browser)
            time.sleep(0.3)  # let deferred theme scripts run, so their errors are caught
            report = browser.execute_script(VISIT_SCRIPT)
            entries = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            report["errors"] = [e["message"] for e in entries if not excused(e)]
            report["excused"] = [(e["message"], excused(e)) for e in entries if excused(e)]
            seen[docname] = report
        return seen[docname]

    return open_page


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_page_loads_without_console_errors(visit, docname):
    report = visit(docname)
    assert report["errors"] == [], f"{docname}: JavaScript console errors: {report['errors']}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_image_loads_from_the_site(visit, site_url, docname):
    problems = []
    for image in visit(docname)["images"]:
        label = image["attr"] or image["src"]
        if image["src"].startswith("data:"):
            pass  # inline image: nothing to find on disk, naturalWidth below says whether it decoded
        elif not image["src"].startswith(site_url):
            problems.append(f"{label}: comes from outside the site, so it breaks offline")
        elif not site_file_for_url(image["src"])[0].is_file():
            problems.append(f"{label}: no such file in {SITE_DIR}")
        if not image["complete"] or image["width"] == 0:
            problems.append(f"{label}: did not load (naturalWidth 0)")
    assert not problems, f"{docname}: broken images: {problems}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_in_site_link_resolves(visit, site_url, docname):
    problems = []
    for link in visit(docname)["links"]:
        if not link["href"].startswith(site_url):
            continue  # external (https://, mailto:) or javascript: links are not the site's to check
        path, fragment = site_file_for_url(link["href"])
        where = f"{link['attr']!r} ({link['text']!r})"
        if not path.is_file():
            problems.append(f"{where}: {path.relative_to(SITE_DIR)} does not exist")
        elif fragment and path.suffix == ".html" and fragment not in element_ids(path):
            problems.append(f"{where}: {path.relative_to(SITE_DIR)} has no element with id {fragment!r}")
    assert not problems, f"{docname}: broken links: {problems}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_no_unresolved_glue_or_markup_errors(visit, docname):
    report = visit(docname)
    literal = sorted(set(re.findall(r"\{glue[^}]*\}`?[^`\s]*`?", report["prose"])))
    assert not literal, f"{docname}: glue roles shown as literal text instead of values: {literal}"
    assert report["problems"] == 0, f"{docname}: {report['problems']} docutils error box(es) on the page"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_formula_is_typeset_offline(visit, site_url, docname):
    """MathJax comes from the site itself, so formulas are typeset with every outside host unreachable."""
    report = visit(docname)
    outside = [src for src in report["scripts"] if not src.startswith(site_url)]
    assert not outside, f"{docname}: scripts loaded from outside the site, which break offline: {outside}"
    assert report["typeset"] == report["formulas"], (
        f"{docname}: MathJax typeset {report['typeset']} of {report['formulas']} formulas; still raw: {report['raw']}"
    )


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_prose_tables_fit_the_column(visit, docname):
    """A table written in the prose (the intro's results table) fits the text column of a laptop's window."""
    wide = [t for t in visit(docname)["tables"] if t["width"] > t["column"]]
    assert not wide, f"{docname}: tables wider than the {WINDOW[0]} px window's text column (cut off): {wide}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_visible_code_needs_no_sideways_scrolling(visit, docname):
    """Every code block a reader sees fits the text column at 1280 px: no line's end hides behind a scroll bar."""
    wide = visit(docname)["wide_code"]
    assert not wide, f"{docname}: code blocks wider than the {WINDOW[0]} px window's text column: {wide}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_display_formulas_fit_the_column(visit, docname):
    """MathJax 3 does not break lines, so a display formula wider than the column must be split by its author."""
    wide = visit(docname)["wide_formulas"]
    assert not wide, f"{docname}: display formulas wider than the {WINDOW[0]} px window's text column: {wide}"


@pytest.mark.parametrize("docname", CHAPTERS, ids=page_id)
def test_chapter_launches_its_own_notebook_on_colab(visit, docname):
    expected = expected_colab_url(docname)
    links = visit(docname)["colab"]
    assert links, f"{docname}: no Colab launch button"
    assert set(links) == {expected}, f"{docname}: Colab links {links}, expected {expected}"
    notebook = expected.split("/blob/colab/", 1)[1]  # the workflow pushes _build/html/editions as the branch colab
    assert (SITE_DIR / "editions" / notebook).is_file(), f"the Colab link names {notebook}, which was not built"


def test_search_finds_results(browser, site_url):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")
    browser.get(f"{site_url}search.html?q={SEARCH_TERM}")
    count = "return document.querySelectorAll('#search-results ul.search li').length"
    try:
        WebDriverWait(browser, 30).until(lambda d: d.execute_script(count) > 0)
    except TimeoutException:
        summary = browser.execute_script("const r = document.getElementById('search-results'); return r && r.innerText")
        pytest.fail(f"searching for {SEARCH_TERM!r} found nothing within 30 s; the page said: {summary!r}")
    hits = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href)"
    )
    assert all(site_file_for_url(hit)[0].is_file() for hit in hits), f"search results point at missing pages: {hits}"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE" and not excused(e)]
    assert errors == [], f"search page: JavaScript console errors: {errors}"
