"""One registry of quoted numbers: every number the prose types by hand is listed once, with its source.

The book's numbers come from execution (glue roles); the few it types (quotes from the papers, the post,
the benchmark table, Colab's pins) are listed in `book/intro.md` under the heading "... quoted, not computed",
a table `| Number | Where | Source |`. A number the chapters, the intro or the teaching page type that is not
in it is a number with no source; a row that no page uses any more is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from booktools.chapters import ROOT, chapters

INTRO = ROOT / "book" / "intro.md"
PAGES = [INTRO, ROOT / "book" / "teaching.md", *(chapter.path for chapter in chapters())]
HEADER = "| Number | Where | Source |"
# Decimals (-0.1, 0.3081), percentages (87 %, 0.95%), factors (2.4x, 6×), fractions (2/3) and durations
# (105 seconds, both ends of "87 to 105 s"), not part of a word, a version or a path.
NUMBER = re.compile(
    r"(?<![\w.,/\\-])[-\u2212]?\d[\d,]*\.\d+(?:\s?%)?(?![\d.]*\w)"
    r"|(?<![\w.,/\\-])\d[\d,]*\s?%"
    r"|(?<![\w.,/($\\-])\d+(?:\.\d+)?(?:x|\s?\u00d7)(?![\w)$\d]|\s?\d)"
    r"|(?<![\w.,/\\-])\d+/\d+(?![\w/.]*\w)"
    r"|(?<![\w.,/\\-])\d[\d,]*(?=(?:\s?(?:to|and|\u2013|-)\s?\d[\d,]*)?\s?(?:seconds?|sec|s)\b)"
)
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\S*)")
NOT_PROSE = [
    re.compile(r"^\s*:\w[\w-]*:.*$", re.M),  # a directive's options
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: glued values, citations, references
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"\{\{[^}]*\}\}"),  # substitutions (the measured run times)
    # numbers that name a part of the book or of a paper
    re.compile(r"\b(?:[Ee]xercise|[Ss]olution|[Cc]hapter|[Ss]ection|[Ff]igure|[Ss]tep|[Tt]able)s?\s+\d+(?:\.\d+)?"),
]


def canonical(number: str) -> str:
    """A number as the registry compares it: one minus sign, no space before % or ×."""
    return re.sub(r"\s+(?=[%\u00d7])", "", number.replace("\u2212", "-").strip())


def markdown(page: Path) -> str:
    """The markdown of a page: a notebook's markdown cells, or the whole of a .md file."""
    if page.suffix == ".ipynb":
        notebook = nbformat.read(page, as_version=4)
        return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return page.read_text(encoding="utf-8")


def registry_table(text: str) -> tuple[str, list[list[str]]]:
    """The registry's section of `text` and its rows (Number, Where, Source), both empty when it is missing."""
    section = re.search(r"^#+ [^\n]*quoted, not computed[^\n]*\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    if not section or HEADER not in section.group(1):
        return "", []
    lines = section.group(1).split(HEADER, 1)[1].strip().splitlines()[1:]  # after the |---| line
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return section.group(0), rows


def prose_lines(text: str) -> str:
    """`text` without its code blocks and fence lines; a {directive}'s body (an exercise, a note) is prose."""
    kept, open_fences, code = [], [], None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if code:
            code = None if fence and fence.group(1) == code and not fence.group(2) else code
        elif fence and open_fences and fence.group(1) == open_fences[-1] and not fence.group(2):
            open_fences.pop()
        elif fence and fence.group(2).startswith("{"):
            open_fences.append(fence.group(1))
        elif fence:
            code = fence.group(1)
        else:
            kept.append(line)
    return "\n".join(kept)


def typed_numbers(text: str) -> set[str]:
    """The numbers that `text` types by hand, as `canonical` writes them."""
    text = prose_lines(text)
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    return {canonical(match.group(0)) for match in NUMBER.finditer(text)}


def pages_text() -> dict[Path, str]:
    """Each page's markdown, the intro without its registry (which names every number once)."""
    texts = {page: markdown(page) for page in PAGES}
    texts[INTRO] = texts[INTRO].replace(registry_table(texts[INTRO])[0], "")
    return texts


SECTION, ROWS = registry_table(INTRO.read_text(encoding="utf-8"))
REGISTERED = {canonical(row[0]) for row in ROWS}


def test_the_intro_has_the_registry_of_quoted_numbers():
    assert ROWS, f"{INTRO} needs a section whose heading says 'quoted, not computed' with the table {HEADER}"


def test_every_registry_row_names_where_and_a_source():
    incomplete = [row for row in ROWS if len(row) != 3 or not all(row)]
    assert incomplete == []


def test_every_number_is_registered_once():
    numbers = [canonical(row[0]) for row in ROWS]
    assert sorted({n for n in numbers if numbers.count(n) > 1}) == []


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_number_a_page_types_is_in_the_registry(page):
    assert sorted(typed_numbers(pages_text()[page]) - REGISTERED) == []


def test_every_registry_row_is_still_used_by_a_page():
    used = set().union(*(typed_numbers(text) for text in pages_text().values()))
    prose = "\n".join(pages_text().values())
    stale = [row[0] for row in ROWS if canonical(row[0]) not in used and row[0] not in prose]
    assert stale == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("error of 0.95% and 0.8 %, the background −0.1", {"0.95%", "0.8%", "-0.1"}),
        ("2.4 times faster, 6× as many, a 5x speed-up", {"2.4", "6×", "5x"}),
        ("Exercise 2.5, chapter 3, `lr=0.001`, {glue:text}`acc:.2%`, Python 3.13.1, in 1998", set()),
        ("```python\nx = 0.5\n```\n```{exercise} Title\nUse 0.25 here.\n```", {"0.25"}),
        ("$\\tanh(x) = 2\\sigma(2x) - 1$, the $2x$ inside, with $A = 1.7159$", {"1.7159"}),
        (
            "slope $S = 2/3$, a path a/1/2, epochs of 87 to 105 seconds, 12 s, 3 steps, 2.5 s",
            {"2/3", "87", "105", "12", "2.5"},
        ),
    ],
)
def test_typed_numbers_are_decimals_percentages_factors_fractions_and_durations_outside_code_and_references(
    text, found
):
    assert typed_numbers(text) == found
