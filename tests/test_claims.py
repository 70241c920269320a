"""The checks read what the reader reads: every guarded claim is a sentence of its chapter, and back.

A `check(holds, claim, got)` in a removed cell guards a sentence of the chapter's prose. These tests hold
the two together: each claim must appear word for word in the chapter's markdown (a glued value may stand
as `...` or as `[words]`), and each sentence that puts a glued number next to a comparative ("more",
"only", "every", ...) must be the claim of some check, since a retrain could make it false.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from booktools.chapters import Chapter, chapters

GLUE = "\u27e8glue\u27e9"  # stands for a glued value, in the prose and in a claim alike
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`(?P<key>[^`]*)`")
CITATION = re.compile(r"\s*\{cite(?::\w+)?\}`[^`]*`")
REFERENCE = re.compile(r"\{(?:numref|ref|doc|eq)\}`[^`]*`")  # rendered as a number or a title
COMPARATIVES = ("most", "larger", "smaller", "only", "every", "all", "higher", "lower", "more", "fewer",
                "best", "worst")
COMPARATIVE = re.compile(rf"\b(?:{'|'.join(COMPARATIVES)})\b", re.IGNORECASE)
NEAR = 8  # words between a glued number and a comparative that still compare it
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"\u201c*`{$])|\n\s*\n|\n(?=\s*(?:[-*] |\d+\. ))")


def normalize(text: str) -> str:
    """Text as the book's before-stop hook compares it: no markup, straight quotes, one space, lower case."""
    text = re.sub(r"[*_`]", "", text).replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def reader_text(markdown: str) -> str:
    """Markdown as the reader reads it, glued numbers as GLUE, citations dropped, references as `...`."""
    markdown = GLUE_ROLE.sub(GLUE, CITATION.sub("", markdown))
    return REFERENCE.sub("...", markdown)


def claim_text(claim: str) -> str:
    """A claim with its stand-ins for glued values (`...`, `[words]`) written as GLUE, normalized."""
    return normalize(re.sub(r"\.\.\.|\[[^\]]*\]", GLUE, claim))


def prose(chapter: Chapter) -> list[str]:
    """The chapter's markdown cells as the reader reads them."""
    notebook = nbformat.read(chapter.path, as_version=4)
    return [reader_text(cell.source) for cell in notebook.cells if cell.cell_type == "markdown"]


def claims(chapter: Chapter) -> list[str]:
    """The claim strings of the chapter's `check()` calls (an f-string's values stand as `...`)."""
    found = []
    for cell in nbformat.read(chapter.path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = re.sub(r"^(\s*)[%!].*$", r"\1pass", cell.source, flags=re.M)  # IPython magics are not Python
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and len(node.args) >= 2:
                claim = node.args[1]
                if isinstance(claim, ast.Constant):
                    found.append(claim.value)
                elif isinstance(claim, ast.JoinedStr):
                    found.append("...".join(part.value for part in claim.values if isinstance(part, ast.Constant)))
    return found


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
    """The chapter's claims that its prose does not contain word for word."""
    text = " ".join(normalize(cell) for cell in prose(chapter))
    return [claim for claim in claims(chapter) if claim_text(claim) not in text]


def unguarded_sentences(chapter: Chapter) -> list[str]:
    """The chapter's sentences with a glued number and a comparative that no check's claim covers."""
    guarded = [claim_text(claim) for claim in claims(chapter)]
    missing = []
    for cell in prose(chapter):
        for sentence in sentences(cell):
            if not compares_a_glued_number(sentence):
                continue
            text = normalize(sentence)
            if not any(claim in text or text in claim for claim in guarded if COMPARATIVE.search(claim)):
                missing.append(re.sub(r"\s+", " ", sentence).strip())
    return missing


CHAPTERS = chapters()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_every_check_claim_is_a_sentence_of_its_chapter_word_for_word(chapter):
    assert unread_claims(chapter) == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_every_sentence_comparing_a_glued_number_is_guarded_by_a_check(chapter):
    assert unguarded_sentences(chapter) == []


def test_a_claim_may_stand_for_glued_values_with_dots_or_brackets():
    prose_text = normalize(reader_text("After one epoch it scores {glue:text}`acc:.1%`, more than {glue:text}`b`."))
    assert claim_text("After one epoch it scores ..., more than [the training accuracy]") in prose_text
    assert claim_text("After one epoch it scores ..., less than ...") not in prose_text


def test_a_sentence_with_a_comparative_next_to_a_glued_number_is_found():
    text = (
        "Plain words here. It reaches {glue:text}`acc:.2%`, more than before. Only words, no number. "
        "All of the data, every image of it, was read in one pass that took {glue:text}`s:.0f` seconds."
    )
    found = [s for s in sentences(reader_text(text)) if compares_a_glued_number(s)]
    assert found == [f"It reaches {GLUE}, more than before."]
