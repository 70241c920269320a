"""The one MyST renderer: MyST markdown rewritten as the plain markdown that Jupyter and Colab show, cell by cell.

Every generated thing (the editions, the slides, the worksheet, the plan) is rendered here. markdown-it
(with MyST's plugins, as the site parses it) finds the roles, directives, substitutions, targets and
comments; each becomes plain text: a substitution `{{ name }}` its value (`booktools.timings`, as the
site has it), a glue role its value, formatted as the role asks; a citation
"(Author, year)"; an exercise "**Exercise n.k**", numbered as the site numbers it; a reference the
number or heading it points to ("Exercise 2.5": the prose around it must not say "exercise" again); an
admonition a block quote. A segment that ends an exercise says so (`Segment.answer`), so an edition can
leave room for the answer after it. Directive and role names are compared
as Sphinx compares them, without regard to case. Solutions are handed to the edition: a `{solution}`
directive through `fold`, the cells between `{solution-start}` and `{solution-end}` as segments that
carry the gate they belong to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from docutils.parsers.rst.directives import admonitions
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

from .bibliography import Bibliography
from .chapters import Chapter, chapters
from .glue import format_plain, glued_values
from .timings import substitutions

GLUE_ROLES = {"glue", "glue:", "glue:any", "glue:text", "glue:md"}
ADMONITIONS = {  # docutils' admonition directives, and Sphinx's seealso
    name.lower() for name, kind in vars(admonitions).items() if kind in admonitions.BaseAdmonition.__subclasses__()
} | {"seealso"}
CODE_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode"}
DIRECTIVE = re.compile(r"^\{([^}\s]+)\}\s*(.*)$", re.S)
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)  # `text <target>` in a reference role
PENDING = re.compile(r"\x00(\d+)\x00")  # a reference resolved once every chapter's labels are known
SUBSTITUTION = r"\{{\{{\s*{}\s*\}}\}}"  # `{{ name }}`, format() with the escaped name


class RenderError(Exception):
    """A problem in the book's sources that makes a faithful edition impossible."""


def load_yaml(path: Path) -> dict:
    """The mapping in the YAML file at `path`, or an empty one when there is no such file."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RenderError(f"{path} is not valid YAML ({' '.join(str(exc).split())})") from exc
    return data if isinstance(data, dict) else {}


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, or a RenderError that says it is not one."""
    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, OSError) as exc:  # nbformat's NotJSONError is a ValueError
        raise RenderError(f"{path.name} is not a readable notebook: {exc}") from exc


@dataclass
class Book:
    """What the chapters share: their parser, bibliography, substitutions, glued values, labels and titles."""

    root: Path
    parser: MarkdownIt
    bibliography: Bibliography
    chapters: list[Chapter]
    substitutions: dict[str, str] = field(default_factory=dict)  # `{{ name }}` -> its text
    glue: dict[str, dict[str, dict]] = field(default_factory=dict)  # notebook name -> key -> MIME bundle
    labels: dict[str, str] = field(default_factory=dict)  # exercise or figure label -> "Exercise 2.1", "Fig. 2.3"
    titles: dict[str, str] = field(default_factory=dict)  # section label -> its heading
    documents: dict[str, str] = field(default_factory=dict)  # chapter file stem -> its title, as {doc} shows it
    pending: list[tuple[str, str, str]] = field(default_factory=list)  # (role, label, explicit text)

    @classmethod
    def load(cls, root: Path) -> Book:
        """The book at `root` with the glued values of its executed chapters, which `_toc.yml` must list."""
        found = chapters(root)
        if not found:
            raise RenderError(f"{root / '_toc.yml'} lists no chapter notebooks in a numbered part")
        config = load_yaml(root / "_config.yml")
        extensions = config.get("parse", {}).get("myst_enable_extensions", ["colon_fence"])
        parser = create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)
        bibliography = Bibliography([root / name for name in config.get("bibtex_bibfiles", [])])
        book = cls(root, parser, bibliography, found, substitutions(root))
        for chapter in found:
            notebook = read_notebook(chapter.path)
            book.glue[chapter.path.name] = glued_values(notebook)
            heads = (c.source for c in notebook.cells if c.cell_type == "markdown" and c.source.startswith("# "))
            book.documents[chapter.stem] = next(heads, f"# {chapter.stem}").splitlines()[0][2:].strip()
        return book

    def reference(self, role: str, content: str) -> str:
        """A placeholder for a `{ref}` or `{numref}` role, resolved by `resolve` once all labels are known."""
        explicit = EXPLICIT.match(content)
        text, label = (explicit[1], explicit[2].strip()) if explicit else ("", content.strip())
        self.pending.append((role, label, text))
        return f"\x00{len(self.pending) - 1}\x00"

    def resolve(self, text: str, where: str) -> str:
        """Replace the reference placeholders in `text` with numbers, headings or explicit texts."""

        def one(match: re.Match) -> str:
            role, label, explicit = self.pending[int(match[1])]
            if explicit and not (role == "numref" and label in self.labels):
                return explicit
            if label in self.labels:
                number = self.labels[label].split(" ", 1)[-1]
                return explicit.replace("%s", number).replace("{number}", number) if explicit else self.labels[label]
            if label in self.titles:
                return self.titles[label]
            raise RenderError(f"{where} refers to the label {label!r}, which no chapter defines")

        return PENDING.sub(one, text)


def split_options(body: str) -> tuple[dict[str, str], str]:
    """A directive's options (`:key: value` lines or a YAML block) and the content that follows them."""
    lines = body.splitlines()
    if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
        end = next(index for index, line in enumerate(lines[1:], 1) if line.strip() == "---")
        try:
            options = yaml.safe_load("\n".join(lines[1:end]))
        except yaml.YAMLError:
            options = None  # not options after all: MyST would show the block as content, and so do we
        if isinstance(options, dict):
            return {str(key): str(value) for key, value in options.items()}, "\n".join(lines[end + 1 :]).strip("\n")
    options, index = {}, 0
    while index < len(lines) and (option := re.match(r"^:([\w-]+):\s*(.*)$", lines[index])):
        options[option[1]] = option[2]
        index += 1
    return options, "\n".join(lines[index:]).strip("\n")


def block_quote(lines: list[str]) -> list[str]:
    """`lines` as a markdown block quote."""
    return [f"> {line}" if line else ">" for line in lines]


def fence(text: str, info: str = "") -> list[str]:
    """`text` as a fenced code block, with a fence longer than any run of backticks inside it."""
    ticks = "`" * max([3, *(len(run) + 1 for run in re.findall("`+", text))])
    return [f"{ticks}{info}", *text.splitlines(), ticks]


@dataclass
class Segment:
    """Consecutive lines of one markdown cell, inside the solution gate `gate` or outside any (None)."""

    gate: str | None
    lines: list[str]
    answer: str | None = None  # after an exercise's last line: "code" (room for code) or "words" (and for prose)


# An exercise that asks a question, is a discussion, or asks to predict, explain or work out without code wants an
# answer in words: the editions leave a cell to write it in.
ASKS_IN_WORDS = re.compile(r"\?|\b(discussion|predict|explain|without running)\b", re.IGNORECASE)

Fold = Callable[[str, list[str]], list[str]]  # (title, rendered lines of a {solution}) -> what the edition shows


@dataclass
class ChapterRenderer:
    """Rewrite one chapter's markdown cells in order; a solution gate may span cells."""

    book: Book
    chapter: Chapter
    fold: Fold
    gate: str | None = None  # the open solution-start: "<exercise label>@<count>"
    gate_cell: int = 0
    cell: int = 0
    exercises: int = 0
    figures: int = 0
    solutions: int = 0
    asks: str = "code"  # what the last exercise asks for: "code", or "words" when it asks a question in words
    cited: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """The chapter and cell an error message points to."""
        return f"{self.chapter.path.name}: cell {self.cell}"

    def number(self, count: int) -> str:
        """The number of the `count`-th numbered item of this chapter, e.g. 2.3."""
        return f"{self.chapter.number}.{count}"

    def solution_title(self, label: str) -> str:
        """The title of a solution: "Solution to Exercise 2.1" once references resolve, or "Solution"."""
        return f"Solution to {self.book.reference('numref', label)}" if label else "Solution"

    def markdown(self, text: str, top: bool = True) -> list[Segment]:
        """`text` rewritten, in segments that say which solution gate (if any) each line belongs to."""
        segments = [Segment(self.gate, [])]

        def add(lines: list[str]) -> None:
            if segments[-1].gate != self.gate:
                segments.append(Segment(self.gate, []))
            segments[-1].lines.extend(lines)

        lines = text.splitlines()
        tokens = self.book.parser.parse(text)
        cursor = 0  # the first line not yet copied or replaced
        for index, token in enumerate(tokens):
            if not token.map or token.map[0] < cursor:
                continue  # a block's opening token (its lines are copied or replaced below) or a nested one
            start, end = token.map
            if token.type in ("fence", "colon_fence") and (directive := DIRECTIVE.match(token.info)):
                add(lines[cursor:start])
                add(self.directive(directive[1].lower(), directive[2].strip(), token.content, top))
                if top and directive[1].lower() in ("exercise", "exercise-end"):
                    segments[-1].answer = self.asks
                    segments.append(Segment(self.gate, []))
            elif token.type in ("myst_target", "myst_line_comment", "myst_block_break"):
                following = tokens[index + 1 : index + 3]
                if token.type == "myst_target" and following and following[0].type == "heading_open":
                    self.book.titles[token.content] = following[1].content
                add(lines[cursor:start])
            elif token.type == "substitution_block":
                add(lines[cursor:start])
                add(self.substitution(token.content).splitlines())
            elif token.type == "inline":
                row = [other for other in tokens[index:] if other.type == "inline" and other.map == token.map]
                add(lines[cursor:start])
                add(self.inline("\n".join(lines[start:end]), row).split("\n"))
            else:
                continue
            cursor = end
        add(lines[cursor:])
        return [segment for segment in segments if segment.lines or segment.answer]

    def nested(self, text: str) -> list[str]:
        """The rewritten lines of a directive's content (no gate opens or closes inside a directive)."""
        return [line for segment in self.markdown(text, top=False) for line in segment.lines]

    def directive(self, name: str, argument: str, body: str, top: bool) -> list[str]:
        """The plain-markdown lines for one MyST directive."""
        if name in ("solution-start", "solution-end") and not top:
            raise RenderError(f"{self.where} nests a {name} inside another directive")
        if name == "solution-start":
            if self.gate is not None:
                raise RenderError(
                    f"{self.where} opens a solution-start inside the solution-start "
                    f"{self.gate.split('@')[0] or '(no label)'} of cell {self.gate_cell}"
                )
            self.solutions += 1
            self.gate, self.gate_cell = f"{argument}@{self.solutions}", self.cell
            return []
        if name == "solution-end":
            if self.gate is None:
                raise RenderError(f"{self.where} has a solution-end without a solution-start")
            self.gate = None
            return []
        options, content = split_options(body)
        if name in ("exercise", "exercise-start"):  # the gated form's cells between start and end stay
            return self.exercise(argument, options, content)
        if name == "exercise-end":
            return []
        if name == "solution":
            self.solutions += 1
            return self.fold(self.solution_title(argument), self.nested(content))
        if name in ADMONITIONS:
            title = argument if name == "admonition" else "See also" if name == "seealso" else name.capitalize()
            content = content if name == "admonition" or not argument else f"{argument}\n{content}"
            return block_quote([f"**{self.inline(title)}**", "", *self.nested(content)])
        if name == "math":
            return ["$$", *content.splitlines(), "$$"]
        if name in CODE_DIRECTIVES:
            return fence(content, argument)
        if name.startswith("glue"):
            raise RenderError(
                f"{self.where} uses a {{{name}}} directive, which plain Jupyter cannot show; "
                "show the object in a cell's output and glue only numbers for the text"
            )
        return self.nested(content)  # any other directive: its content reads as plain markdown

    def exercise(self, title: str, options: dict[str, str], content: str) -> list[str]:
        """An exercise as "**Exercise n.k** (title)" and its content, numbered as sphinx-exercise numbers it."""
        numbered = "nonumber" not in options
        self.exercises += numbered
        heading = f"Exercise {self.number(self.exercises)}" if numbered else "Exercise"
        self.asks = "words" if ASKS_IN_WORDS.search(content) else "code"
        if "label" in options:
            self.book.labels[options["label"]] = heading
        return [f"**{heading}**" + (f" ({self.inline(title)})" if title else ""), "", *self.nested(content)]

    def figure(self, cell: nbformat.NotebookNode) -> list[str]:
        """The caption a code cell's figure has on the site ("**Fig. 1.2** ..."), registering its label."""
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        caption = figure.get("caption") or cell.metadata.get("caption")
        if not caption:
            return []
        self.figures += 1
        number = f"Fig. {self.number(self.figures)}"
        if figure.get("name"):
            self.book.labels[figure["name"]] = number
        return [f"**{number}** {self.inline(str(caption))}"]

    def inline(self, text: str, tokens: list[Token] | None = None) -> str:
        """`text` with each role and substitution markdown-it finds in it (or in its `tokens`) as plain text."""
        tokens = tokens or self.book.parser.parseInline(text)
        cursor = 0
        kinds = ("myst_role", "substitution_inline")
        for child in (child for token in tokens for child in token.children or [] if child.type in kinds):
            if child.type == "substitution_inline":
                pattern = SUBSTITUTION.format(re.escape(child.content))
            else:
                spelled = r"\s".join(re.escape(part) for part in child.content.split(" "))
                pattern = rf"\{{{re.escape(child.meta['name'])}\}}(`+){spelled}\1"
            found = re.compile(pattern).search(text, cursor)
            if found is None:  # markdown-it saw a role the text does not spell as expected: leave it
                continue
            if child.type == "substitution_inline":
                plain = self.substitution(child.content)
            else:
                plain = self.role(child.meta["name"].lower(), child.content)
            text = text[: found.start()] + plain + text[found.end() :]
            cursor = found.start() + len(plain)
        return text

    def substitution(self, name: str) -> str:
        """The text of `{{ name }}`, as the site substitutes it."""
        if name.strip() not in self.book.substitutions:
            raise RenderError(f"{self.where} uses {{{{ {name.strip()} }}}}, which booktools.timings does not define")
        return self.book.substitutions[name.strip()]

    def role(self, name: str, content: str) -> str:
        """The plain text for one role."""
        if name in GLUE_ROLES:
            return self.glued(name, content)
        if name == "cite" or name.startswith("cite:"):
            keys = [key.strip() for key in content.split(",")]
            missing = [key for key in keys if key not in self.book.bibliography.data.entries]
            if missing:
                raise RenderError(f"{self.where} cites {missing[0]!r}, which the book's bibliography does not hold")
            self.cited.extend(keys)
            return self.book.bibliography.cite(name, keys)
        if name in ("ref", "numref"):
            return self.book.reference(name, content)
        if name == "math":
            return f"${content}$"
        explicit = EXPLICIT.match(content)  # {doc}, {term}, {abbr}, ...: their text
        if name == "doc" and not explicit:  # Sphinx shows the document's title, not its file name
            return self.book.documents.get(Path(content.strip()).name, content)
        return explicit[1] if explicit else content

    def glued(self, name: str, content: str) -> str:
        """The value a glue role pastes, formatted as myst-nb formats it; `nb.ipynb::key` reads another chapter."""
        key, spec = (
            content.rsplit(":", 1) if name == "glue:text" and ":" in content.replace("::", "") else (content, "")
        )
        notebook, _, key = key.rpartition("::")
        notebook = notebook or self.chapter.path.name
        values = self.book.glue.get(Path(notebook).name, {})
        if key not in values:
            raise RenderError(
                f"{self.where} pastes the glue key {key!r}, which no output of {notebook} holds; "
                "execute the chapter (make notebooks) so that its outputs carry the glued values"
            )
        data = values[key]
        if name == "glue:md":
            return data.get("text/markdown", "").strip()
        try:
            return format_plain(data.get("text/plain", ""), spec)
        except (TypeError, ValueError) as exc:
            raise RenderError(f"{self.where} cannot format the glued {key!r} as {spec!r} ({exc})") from exc
