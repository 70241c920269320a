"""Accessibility of every page of _toc.yml in the built site: axe-core 4 in light and dark mode, plus strict checks.

axe-core comes from npm (`npm ci` installs the version package-lock.json pins into node_modules/) and
is injected into each page in headless Chromium through Selenium, once in the theme's light mode and
once in its dark mode, after MathJax has typeset the formulas. For a person to look at, full-page
screenshots of both modes (<page>-light.png, <page>-dark.png) land in the folder LENET_SCREENSHOTS
names, when it names one: they take more than half of these tests' time, so `make test` takes none.

Two sources of markup are on every page: the book's own content (the article: prose, figures,
tables, code and outputs) and the theme's chrome around it (header, sidebars, buttons, footer).

* Content: no axe violation of any impact, and the rules a reader of a tutorial depends on are
  checked directly too: every image has real alt text (not empty, not a file name), headings go
  down one level at a time from a single h1, and every table has header cells.
* Chrome: no critical or serious axe violation. The theme's own failures are fixed in the book's
  templates (_templates/) and its Sphinx extension (booktools/sphinx_ext.py), not excused here.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
from pathlib import Path

import pytest
from site_fixtures import (
    REPO_ROOT,
    html_file,
    open_in_mode,
    page_id,
    toc_pages,
    wait_for_math,
)

PAGES = toc_pages()
MODES = ("light", "dark")
CONTENT = "article.bd-article"  # the book's own content on a sphinx-book-theme page
SERIOUS = {"critical", "serious"}
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ["LENET_SCREENSHOTS"]) if os.environ.get("LENET_SCREENSHOTS") else None

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(results => done(results), error => done(String(error)));
"""

# For every node axe flags: is it inside the content?
IN_CONTENT = """
let element = null;
try { element = document.querySelector(arguments[0][arguments[0].length - 1]); } catch (e) {}
return element === null ? null : element.closest(arguments[1]) !== null;
"""

STRICT_SCRIPT = """
const article = document.querySelector(arguments[0]);
if (!article) { return null; }
const images = Array.from(article.querySelectorAll('img')).map(img => ({
    src: img.getAttribute('src') || '', alt: img.getAttribute('alt')}));
const headings = Array.from(article.querySelectorAll('h1, h2, h3, h4, h5, h6')).map(h => ({
    level: Number(h.tagName[1]), text: h.textContent.replace(/[\\s#¶]+$/, '').trim().slice(0, 60)}));
const tables = Array.from(article.querySelectorAll('table')).map(table => ({
    headers: table.querySelectorAll('th').length,
    caption: (table.querySelector('caption') || {}).textContent || '',
    first_row: ((table.querySelector('tr') || {}).textContent || '').trim().slice(0, 60)}));
return {images: images, headings: headings, tables: tables};
"""


def axe_source() -> str:
    """axe-core's browser script from node_modules; fails the test with what to do when it is missing."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository root (make book does)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def audit(browser, site_url):
    """``audit(docname, mode)`` runs axe once per page and mode and sorts every flagged node into content or chrome."""
    seen: dict[tuple[str, str], dict] = {}
    source = axe_source()

    def run(docname: str, mode: str = "light") -> dict:
        if (docname, mode) in seen:
            return seen[docname, mode]
        if not html_file(docname).is_file():
            pytest.fail(f"{html_file(docname)} was not built")
        open_in_mode(browser, f"{site_url}{docname}.html", mode)
        if browser.execute_script("return document.querySelector('.math') !== null"):
            wait_for_math(browser)
        browser.execute_script(source)
        version = browser.execute_script("return axe.version")
        assert version.startswith("4."), f"{AXE_SCRIPT} is axe-core {version}; the tests expect axe-core 4"
        results = browser.execute_async_script(RUN_AXE)
        assert isinstance(results, dict), f"{docname} ({mode}): axe-core failed: {results}"
        report = {"content": [], "chrome": [], "strict": browser.execute_script(STRICT_SCRIPT, CONTENT)}
        for violation in results["violations"]:
            for node in violation["nodes"]:
                item = {
                    "rule": violation["id"],
                    "impact": node.get("impact") or violation["impact"],
                    "target": " ".join(map(str, node["target"])),
                    "html": node["html"][:160],
                    "help": violation["help"],
                }
                in_content = browser.execute_script(IN_CONTENT, node["target"], CONTENT)
                if in_content is not False:
                    report["content"].append(item)  # the book's own markup (or unplaceable): any impact counts
                elif item["impact"] in SERIOUS:
                    report["chrome"].append(item)  # the page around the article
        if SCREENSHOTS:
            shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"{page_id(docname)}-{mode}.png").write_bytes(base64.b64decode(shot["data"]))
        seen[docname, mode] = report
        return report

    return run


def describe(items: list[dict]) -> str:
    return "\n".join(f"  [{i['impact']}] {i['rule']}: {i['help']} at {i['target']}: {i['html']}" for i in items)


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
@pytest.mark.parametrize("mode", MODES)  # every page in one mode, then in the other: the mode changes twice
def test_book_content_has_no_axe_violations(audit, docname, mode):
    content = audit(docname, mode)["content"]
    assert not content, f"{docname} ({mode} mode): accessibility violations in the book's content:\n{describe(content)}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
@pytest.mark.parametrize("mode", MODES)  # every page in one mode, then in the other: the mode changes twice
def test_theme_has_no_serious_axe_violations(audit, docname, mode):
    chrome = audit(docname, mode)["chrome"]
    assert not chrome, (
        f"{docname} ({mode} mode): critical/serious accessibility violations in the theme around the content; "
        f"fix them in _templates/ or booktools/sphinx_ext.py:\n{describe(chrome)}"
    )


def looks_like_a_file_name(alt: str, src: str) -> bool:
    """Whether alt text is really a path or file name (docutils' fallback when a figure has none)."""
    name = src.rsplit("/", 1)[-1]
    return (bool(name) and (alt.strip() == src or name in alt)) or bool(
        re.search(r"\.(png|jpe?g|svg|gif)$", alt.strip())
    )


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_image_has_real_alt_text(audit, docname):
    strict = audit(docname)["strict"]
    assert strict is not None, f"{docname}: no {CONTENT} element; has the theme changed?"
    bad = [
        f"{image['src']} (alt={image['alt']!r})"
        for image in strict["images"]
        if not (image["alt"] or "").strip() or looks_like_a_file_name(image["alt"], image["src"])
    ]
    assert not bad, f"{docname}: images without a real text alternative: {bad}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_headings_are_in_order(audit, docname):
    headings = audit(docname)["strict"]["headings"]
    levels = [h["level"] for h in headings]
    assert levels, f"{docname}: no headings"
    assert levels[0] == 1, f"{docname}: expected an h1 first, got {headings}"
    assert levels.count(1) == 1, f"{docname}: expected one h1, got {headings}"
    skips = [
        f"h{a['level']} {a['text']!r} -> h{b['level']} {b['text']!r}"
        for a, b in itertools.pairwise(headings)
        if b["level"] > a["level"] + 1
    ]
    assert not skips, f"{docname}: heading levels skipped: {skips}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_every_table_has_header_cells(audit, docname):
    tables = audit(docname)["strict"]["tables"]
    bad = [t["caption"] or t["first_row"] for t in tables if t["headers"] == 0]
    assert not bad, f"{docname}: tables without header cells (<th>): {bad}"
