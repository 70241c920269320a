"""What the slides and the worksheet of the 90-minute session are made of: the chapters' cells and the teaching
page, rendered once by `booktools.myst` (glue values, citations, exercise and figure numbers, references) and
turned into HTML by the same markdown-it parser, with formulas left for MathJax and solutions left out."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from markdown_it.token import Token

from .chapters import ROOT, Chapter
from .editions import FOLDS
from .myst import Book, ChapterRenderer, RenderError, load_yaml, read_notebook

SITE = ROOT / "_build" / "html"  # the built site, which the slides and the worksheet are written into
TEACHING = Path("book") / "teaching.md"
DECK = Path(__file__).parent / "slides" / "deck.yml"  # the deck's plan, and the one list of in-class exercises
LABEL = re.compile(r"^\(([\w-]+)\)=\s*$", re.M)  # a MyST target, `(teaching-colab)=`


@dataclass
class Session:
    """The book's cells by nbformat id, its exercises by number and the teaching page, as plain markdown."""

    book: Book
    text: dict[str, str] = field(default_factory=dict)  # markdown cell id -> its markdown
    code: dict[str, nbformat.NotebookNode] = field(default_factory=dict)  # code cell id -> the cell
    captions: dict[str, str] = field(default_factory=dict)  # figure cell id -> "**Fig. 2.3** ..."
    exercises: dict[str, str] = field(default_factory=dict)  # "2.4" -> the id of the cell that asks it
    headings: dict[str, str] = field(default_factory=dict)  # cell id -> the heading it opens or sits under
    pages: dict[str, str] = field(default_factory=dict)  # label -> the site page that defines it, "book/x.html"
    teaching: str = ""

    @classmethod
    def load(cls, root: Path) -> Session:
        """Render every chapter and the teaching page of the book at `root`, references resolved."""
        session = cls(Book.load(root))
        for rule in ("math_inline", "math_block", "math_block_label", "amsmath"):
            session.book.parser.add_render_rule(rule, math)
        for chapter in session.book.chapters:
            renderer, heading = ChapterRenderer(session.book, chapter, FOLDS["drop"]), ""
            for index, cell in enumerate(read_notebook(chapter.path).cells):
                renderer.cell, asked = index, renderer.exercises
                session.pages.update(dict.fromkeys(LABEL.findall(cell.source), f"book/{chapter.stem}.html"))
                if cell.cell_type == "code":
                    session.code[cell.id] = cell
                    session.captions[cell.id] = "\n".join(renderer.figure(cell))
                    session.headings[cell.id] = heading
                    continue
                segments = renderer.markdown(cell.source)
                text = "\n".join(line for segment in segments if segment.gate is None for line in segment.lines).strip()
                session.text[cell.id] = text
                if renderer.exercises > asked:
                    session.exercises[renderer.number(renderer.exercises)] = cell.id
                tokens = session.book.parser.parse(text)
                found = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
                session.headings[cell.id] = found[0] if text.startswith("#") else heading
                heading = found[-1] if found else heading
        source = (root / TEACHING).read_text(encoding="utf-8")
        session.pages.update(dict.fromkeys(LABEL.findall(source), TEACHING.with_suffix(".html").as_posix()))
        session.teaching = session.myst(source, TEACHING.name)
        for texts in (session.text, session.captions):
            for cell_id, text in texts.items():
                texts[cell_id] = session.book.resolve(text, f"cell {cell_id}")
        return session

    def myst(self, text: str, where: str) -> str:
        """MyST written as the teaching page writes it (glue, roles, substitutions) as plain markdown."""
        renderer = ChapterRenderer(self.book, Chapter(0, self.book.root / TEACHING), FOLDS["drop"])
        return self.book.resolve("\n".join(line for s in renderer.markdown(text) for line in s.lines), where)

    def cell(self, cell_id: str) -> str:
        """The markdown of the markdown cell `cell_id`, or a RenderError naming it."""
        if cell_id not in self.text:
            raise RenderError(f"no chapter has a markdown cell with the id {cell_id!r}; copy the id from the notebook")
        return self.text[cell_id]

    def exercise(self, number: str) -> tuple[str, str]:
        """The title ("Exercise 2.4 (Why 28 × 28 matters)") and the question of an exercise, without its solution."""
        if number not in self.exercises:
            raise RenderError(f"the book has no exercise {number}; the chapters number {', '.join(self.exercises)}")
        text = self.text[self.exercises[number]]
        heading, _, question = text[text.index(f"**Exercise {number}**") :].partition("\n")
        return heading.replace("**", ""), question.strip()

    def section(self, heading: str) -> str:
        """The markdown under the teaching page's heading that starts with `heading`, up to the next one as high."""
        lines = self.teaching.splitlines()
        tokens = self.book.parser.parse(self.teaching)
        for index, token in enumerate(tokens):
            if token.type == "heading_open" and tokens[index + 1].content.startswith(heading):
                after = (t for t in tokens[index + 1 :] if t.type == "heading_open" and t.tag <= token.tag)
                end = next(after, None)
                return "\n".join(lines[token.map[1] : end.map[0] if end else len(lines)]).strip()
        raise RenderError(f"{TEACHING} has no heading that starts with {heading!r}, which the session plan names")

    def plan(self) -> list[list[str]]:
        """The rows of the teaching page's session plan (its first table), header first, as inline markdown."""
        tokens = self.book.parser.parse(self.section("The session plan"))
        rows: list[list[str]] = []
        for token in tokens:
            if token.type == "table_close":
                break
            if token.type == "tr_open":
                rows.append([])
            elif token.type == "inline" and rows:
                rows[-1].append(token.content)
        return rows

    def html(self, markdown: str, picks: list[int] | None = None, site: str = "../") -> str:
        """`markdown` as HTML without its headings; with `picks`, only the top-level blocks (paragraphs, lists,
        tables, formulas) at those positions, counted from 0. A link to a label points at its page under `site`."""
        tokens = self.book.parser.parse(markdown)
        for link in (c for t in tokens for c in t.children or [] if c.type == "link_open"):
            if (label := str(link.attrGet("href"))) in self.pages:
                link.attrSet("href", f"{site}{self.pages[label]}#{label}")
        found = [block for block in blocks(tokens) if block[0].type != "heading_open"]
        if picks and max(picks) >= len(found):
            raise RenderError(f"blocks {picks} asked of a text of {len(found)} blocks: {markdown[:60]!r}...")
        chosen = [token for index in (picks or range(len(found))) for token in found[index]]
        return self.book.parser.renderer.render(chosen, self.book.parser.options, {})

    def inline(self, markdown: str) -> str:
        """One line of markdown as inline HTML."""
        return self.book.parser.renderInline(markdown)


def in_class(deck: Path = DECK) -> list[str]:
    """The numbers of the in-class exercises, in the order of the deck."""
    return [
        str(s["exercise"]) for block in load_yaml(deck).get("blocks", []) for s in block["slides"] if "exercise" in s
    ]


def blocks(tokens: list[Token]) -> list[list[Token]]:
    """The top-level blocks of a token stream: a paragraph, a list, a table, a formula, ..."""
    found: list[list[Token]] = [[]]
    for token in tokens:
        found[-1].append(token)
        if token.level == 0 and token.nesting <= 0:
            found.append([])
    return [block for block in found if block]


def math(renderer: object, tokens: list[Token], index: int, options: object, env: dict) -> str:
    """A formula as MathJax reads it: inline between \\( \\), displayed between \\[ \\]."""
    token = tokens[index]
    if token.type == "math_inline":
        return f'<span class="math">\\({html.escape(token.content)}\\)</span>'
    return f'<div class="math">\\[{html.escape(token.content)}\\]</div>\n'
