"""Accessibility of every page of _toc.yml in the built site: axe-core in headless Chromium, plus strict checks.

Two sources of markup are on every page: the book's own content (the article: prose, figures,
tables, code and outputs) and the theme's chrome around it (header, sidebars, buttons, footer).

* Content: no axe violation of any impact, and the rules a reader of a tutorial depends on are
  checked directly too: every image has real alt text (not empty, not a file name), headings go
  down one level at a time from a single h1, and every table has header cells.
* Chrome: no critical or serious axe violation.

The exceptions are listed, each with its reason, in tests/axe_known_theme_violations.json: an axe
rule id and a CSS selector ("within") of the region the flagged element sits in, a piece of the
theme or markup that the toolchain generates (never the article as a whole: an entry whose region
contains the article fails the tests). A new violation fails; so does a listed one that no longer
occurs anywhere, so the list stays honest.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from axe_selenium_python import Axe
from site_fixtures import browser, html_file, page_id, site_url, toc_pages, wait_for_page  # noqa: F401 (fixtures, used by name)

PAGES = toc_pages()
CONTENT = "article.bd-article"  # the book's own content on a sphinx-book-theme page
SERIOUS = {"critical", "serious"}
KNOWN_THEME_VIOLATIONS = Path(__file__).with_name("axe_known_theme_violations.json")

# For every node axe flags: is it inside the content, and which listed regions contain it?
LOCATE_SCRIPT = """
const [selectors, content, regions] = arguments;
let element = null;
try { element = document.querySelector(selectors[selectors.length - 1]); } catch (e) {}
if (!element) { return {found: false, content: false, regions: []}; }
return {
    found: true,
    content: element.closest(content) !== null,
    regions: regions.filter(region => element.closest(region) !== null),
};
"""

# Listed regions that contain the whole article: such an entry would excuse the book's own content.
TOO_BROAD_SCRIPT = """
const [content, regions] = arguments;
const article = document.querySelector(content);
return article ? regions.filter(region => article.closest(region) !== null) : [];
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


def known_theme_violations() -> list[dict]:
    """The allowlist: entries with "rule", "within" (CSS selector of a theme region) and "reason"."""
    entries = json.loads(KNOWN_THEME_VIOLATIONS.read_text(encoding="utf-8"))["violations"]
    for entry in entries:
        assert {"rule", "within", "reason"} <= set(entry), f"incomplete allowlist entry: {entry}"
        assert entry["reason"].strip(), f"allowlist entry without a reason: {entry}"
    return entries


@pytest.fixture(scope="module")
def audit(browser, site_url):
    """``audit(docname)`` runs axe once per page and sorts every flagged node into content or chrome."""
    seen: dict[str, dict] = {}
    entries = known_theme_violations()
    regions = sorted({entry["within"] for entry in entries})

    def run(docname: str) -> dict:
        if docname in seen:
            return seen[docname]
        if not html_file(docname).is_file():
            pytest.fail(f"{html_file(docname)} was not built")
        browser.get(f"{site_url}{docname}.html")
        wait_for_page(browser)
        axe = Axe(browser)
        axe.inject()
        results = axe.run()
        report = {
            "content": [],
            "chrome": [],
            "allowed": set(),
            "strict": browser.execute_script(STRICT_SCRIPT, CONTENT),
            "too_broad": browser.execute_script(TOO_BROAD_SCRIPT, CONTENT, regions),
        }
        for violation in results["violations"]:
            for node in violation["nodes"]:
                where = browser.execute_script(LOCATE_SCRIPT, node["target"], CONTENT, regions)
                item = {
                    "rule": violation["id"],
                    "impact": node.get("impact") or violation["impact"],
                    "target": " ".join(node["target"]),
                    "html": node["html"][:160],
                    "help": violation["help"],
                }
                allowed = [
                    i
                    for i, entry in enumerate(entries)
                    if entry["rule"] == item["rule"] and entry["within"] in where["regions"]
                ]
                if allowed:
                    report["allowed"].update(allowed)
                elif where["content"] or not where["found"]:
                    report["content"].append(item)  # the book's own markup (or unplaceable): any impact counts
                elif item["impact"] in SERIOUS:
                    report["chrome"].append(item)  # the page around the article
        seen[docname] = report
        return report

    run.entries = entries
    run.seen = seen
    return run


def describe(items: list[dict]) -> str:
    return "\n".join(f"  [{i['impact']}] {i['rule']}: {i['help']} at {i['target']}: {i['html']}" for i in items)


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_book_content_has_no_axe_violations(audit, docname):
    content = audit(docname)["content"]
    assert not content, f"{docname}: accessibility violations in the book's content:\n{describe(content)}"


@pytest.mark.parametrize("docname", PAGES, ids=page_id)
def test_theme_has_no_new_serious_axe_violations(audit, docname):
    chrome = audit(docname)["chrome"]
    assert not chrome, (
        f"{docname}: critical/serious accessibility violations in the theme's chrome that are not in "
        f"{KNOWN_THEME_VIOLATIONS.name}:\n{describe(chrome)}"
    )


def test_no_allowlist_entry_covers_the_whole_article(audit):
    too_broad = {region for docname in PAGES for region in audit(docname)["too_broad"]}
    assert not too_broad, f"{KNOWN_THEME_VIOLATIONS.name}: these regions contain the book's content: {too_broad}"


def test_every_known_theme_violation_still_occurs(audit):
    for docname in PAGES:
        audit(docname)
    used = set().union(*(report["allowed"] for report in audit.seen.values()))
    stale = [entry for i, entry in enumerate(audit.entries) if i not in used]
    assert not stale, f"remove these entries from {KNOWN_THEME_VIOLATIONS.name}, axe no longer reports them: {stale}"


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
    assert levels and levels[0] == 1 and levels.count(1) == 1, f"{docname}: expected one h1 first, got {headings}"
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
