"""The checks read what the reader reads: every guarded claim is a sentence of its chapter, and back.

A `check(holds, claim, got)` in a removed cell guards a sentence of the chapter's prose. These tests hold
the two together: each claim must appear word for word in the chapter's markdown (a glued value may stand
as `...` or as `[words]`), and each sentence that puts a glued number next to a comparative ("more",
"only", "every", ...) must be the claim of some check, since a retrain could make it false. A check outside
the solutions guards a sentence outside them: its claim, printed in a note or read in the student edition,
must not give a solution away.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from booktools.chapters import chapters

GLUE = "\u27e8glue\u27e9"  # stands for a glued value, in the prose and in a claim alike
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`[^`]*`")
CITATION = re.compile(r"\s*\{cite(?::\w+)?\}`[^`]*`")
REFERENCE = re.compile(r"\{(?:numref|ref|doc|eq)\}`[^`]*`")  # rendered as a number or a title
SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}.*?^\1[ \t]*$", re.M | re.S)  # a folded solution's text
COMPARATIVE = re.compile(r"\b(?:most|larger|smaller|only|every|all|higher|lower|more|fewer|best|worst)\b", re.I)
NEAR = 8  # words between a glued number and a comparative that still compare it
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"\u201c*`{$])|\n\s*\n|\n(?=\s*(?:[-*] |\d+\. ))")


def normalize(text: str) -> str:
    """Text as the book's before-stop hook compares it: no markup, straight quotes, one space, lower case."""
    text = re.sub(r"[*_`]", "", text).replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def reader_text(markdown: str) -> str:
    """Markdown as the reader reads it, glued numbers as GLUE, citations dropped, references as `...`."""
    return REFERENCE.sub("...", GLUE_ROLE.sub(GLUE, CITATION.sub("", markdown)))


def claim_text(claim: str) -> str:
    """A claim with its stand-ins for glued values (`...`, `[words]`) written as GLUE, normalized."""
    return normalize(re.sub(r"\.\.\.|\[[^\]]*\]", GLUE, claim))


def check_claims(source: str) -> list[str]:
    """The claim strings of the `check()` calls in a code cell (an f-string's values stand as `...`)."""
    found = []
    source = re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.M)  # IPython magics are not Python
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and len(node.args) >= 2:
            claim = node.args[1]
            if isinstance(claim, ast.Constant):
                found.append(claim.value)
            elif isinstance(claim, ast.JoinedStr):
                found.append("...".join(part.value for part in claim.values if isinstance(part, ast.Constant)))
    return found


@dataclass
class Chapter:
    """A chapter's prose and claims, each split into what lies outside the solutions and what inside."""

    prose: list[str] = field(default_factory=list)
    solutions: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    solution_claims: list[str] = field(default_factory=list)


def figure_text(cell: nbformat.NotebookNode) -> list[str]:
    """A figure's caption and alt text (myst-nb's cell metadata): prose too, for the readers who read them."""
    figure = cell.metadata.get("mystnb", {})
    return [text for text in (figure.get("figure", {}).get("caption"), figure.get("image", {}).get("alt")) if text]


def read(notebook: nbformat.NotebookNode) -> Chapter:
    """The prose (as the reader reads it, figures' captions and alt texts included) and the check() claims of a
    notebook, solutions apart."""
    chapter, in_solution = Chapter(), False  # between {solution-start} and {solution-end} cells
    for cell in notebook.cells:
        if cell.cell_type == "code":
            (chapter.solution_claims if in_solution else chapter.claims).extend(check_claims(cell.source))
            (chapter.solutions if in_solution else chapter.prose).extend(figure_text(cell))
        elif "{solution-start}" in cell.source or "{solution-end}" in cell.source:
            in_solution = "{solution-start}" in cell.source
        elif cell.cell_type == "markdown":
            (chapter.solutions if in_solution else chapter.prose).append(reader_text(SOLUTION.sub("", cell.source)))
            chapter.solutions.extend(reader_text(match.group(0)) for match in SOLUTION.finditer(cell.source))
    return chapter


def sentences(markdown: str) -> list[str]:
    """The sentences of one markdown cell, tables and directive lines left out."""
    lines = [line for line in markdown.splitlines() if not line.lstrip().startswith(("|", "```", ":"))]
    return [part for part in SENTENCE_END.split("\n".join(lines)) if part.strip()]


def compares_a_glued_number(sentence: str) -> bool:
    """Whether a comparative stands within NEAR words of a glued number in `sentence`."""
    words = sentence.replace(GLUE, f" {GLUE} ").split()
    at = [i for i, word in enumerate(words) if word == GLUE]
    return any(COMPARATIVE.search(word) and any(abs(i - j) <= NEAR for j in at) for i, word in enumerate(words))


def unread_claims(chapter: Chapter) -> list[str]:
    """The claims that are not word for word in the prose they guard (a solution's, for a check inside it)."""
    prose = " ".join(normalize(text) for text in chapter.prose)
    solutions = " ".join(normalize(text) for text in chapter.solutions)
    return [claim for claim in chapter.claims if claim_text(claim) not in prose] + [
        claim for claim in chapter.solution_claims if claim_text(claim) not in solutions
    ]


def unguarded_sentences(chapter: Chapter) -> list[str]:
    """The sentences with a glued number next to a comparative that no check's claim covers."""
    guarded = [claim_text(claim) for claim in chapter.claims + chapter.solution_claims]
    missing = []
    for sentence in (s for text in chapter.prose + chapter.solutions for s in sentences(text)):
        text = normalize(sentence)
        if compares_a_glued_number(sentence) and not any(claim in text or text in claim for claim in guarded):
            missing.append(re.sub(r"\s+", " ", sentence).strip().replace(GLUE, "{glue}"))
    return missing


CHAPTERS = chapters()
IDS = [chapter.stem for chapter in CHAPTERS]


@pytest.mark.parametrize("path", [chapter.path for chapter in CHAPTERS], ids=IDS)
def test_every_check_claim_is_a_sentence_of_its_chapter_word_for_word(path):
    assert unread_claims(read(nbformat.read(path, as_version=4))) == []


@pytest.mark.parametrize("path", [chapter.path for chapter in CHAPTERS], ids=IDS)
def test_every_sentence_comparing_a_glued_number_is_guarded_by_a_check(path):
    assert unguarded_sentences(read(nbformat.read(path, as_version=4))) == []


def notebook(*cells: str) -> nbformat.NotebookNode:
    """A notebook of markdown cells and, where a text starts with `check(`, code cells."""
    return new_notebook(cells=[new_code_cell(c) if c.startswith("check(") else new_markdown_cell(c) for c in cells])


def test_a_claim_may_stand_for_glued_values_with_dots_or_brackets():
    prose = "After one epoch it scores {glue:text}`acc:.1%`, more than {glue:text}`b` {cite}`post`."
    held = read(notebook(prose, 'check(True, "After one epoch it scores ..., more than [the training figure]", "")'))
    changed = read(notebook(prose, 'check(True, "After one epoch it scores ..., less than ...", "")'))
    assert (unread_claims(held), unread_claims(changed)) == ([], ["After one epoch it scores ..., less than ..."])


def test_a_check_outside_the_solutions_may_not_quote_a_solution():
    exercise = "```{exercise} Count\n:label: ex1\nHow many?\n```\n\n```{solution} ex1\nIt has 2416.\n```"
    chapter = read(notebook(exercise, 'check(True, "It has 2416", "")'))
    assert (chapter.solutions != [], unread_claims(chapter)) == (True, ["It has 2416"])


def test_a_check_inside_a_solution_guards_that_solution():
    cells = [
        "```{solution-start} ex1\n```",
        "The darkest class is Sandal.",
        'check(True, "The darkest class is Sandal", "")',
        "```{solution-end}\n```",
    ]
    assert unread_claims(read(notebook(*cells))) == []


def test_a_sentence_with_a_comparative_next_to_a_glued_number_needs_a_check():
    prose = (
        "Plain words here. It reaches {glue:text}`acc:.2%`, more than before. Only words, no number. "
        "All of the data, every image of it, was read in one pass that took {glue:text}`s:.0f` seconds."
    )
    assert unguarded_sentences(read(notebook(prose))) == ["It reaches {glue}, more than before."]
    assert unguarded_sentences(read(notebook(prose, 'check(True, "It reaches ..., more than before", "")'))) == []
