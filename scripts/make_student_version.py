"""Write the chapter notebooks without solutions or outputs: `python scripts/make_student_version.py book student`.

The chapters are the notebooks of `source` that `_toc.yml` lists (the nearest `_toc.yml` at or above
`source`). Solutions follow the sphinx-exercise conventions of the book:

* a `{solution}` directive in a markdown cell: the whole directive is removed;
* the gated form: a `{solution-start}` directive, then any cells, then a `{solution-end}`
  directive; everything from the start through the end is removed;
* a cell tagged `solution` is removed.

Exercises stay, in either form (`{exercise}`, or `{exercise-start}` ... `{exercise-end}`).

The rest is made to read well in plain Jupyter and Colab, which know no MyST: every glue role becomes
the value that the executed chapter stored, formatted as the role asks; an exercise becomes
"**Exercise n.k**", numbered as the site numbers it (n is the chapter's position in `_toc.yml`);
references to exercises become their numbers, citations become "(Author, year)", admonitions
become block quotes, and labels and comments are dropped. markdown-it (with MyST's plugins) parses
the markdown; nbconvert's preprocessors remove the tagged cells, the outputs and the metadata.

The output folder is never emptied: the script writes only its own files, records them with their
SHA-256 in `.student_version.json`, and refuses to replace a file it did not write, a file changed
since it wrote it, or a symbolic link.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_nb.core.variables import format_plain_text
from myst_nb.ext.glue import extract_glue_data_cell
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor, TagRemovePreprocessor

MANIFEST = ".student_version.json"
SOLUTION_TAG = "solution"
GLUE_ROLES = {"glue", "glue:", "glue:any", "glue:text", "glue:md"}
ADMONITIONS = {
    "admonition",
    "attention",
    "caution",
    "danger",
    "error",
    "hint",
    "important",
    "note",
    "seealso",
    "tip",
    "warning",
}
CODE_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode"}
DIRECTIVE = re.compile(r"^\{([^}\s]+)\}\s*(.*)$", re.S)
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)  # `text <target>` in a reference role
PENDING = re.compile(r"\x00(\d+)\x00")  # a reference resolved once every chapter's labels are known


class StudentVersionError(Exception):
    """A problem in the input or the output folder that makes a safe student version impossible."""


@dataclass
class Chapter:
    """A notebook of the book with the chapter number the site gives it (None when unnumbered)."""

    path: Path
    number: int | None


@dataclass
class Book:
    """What the chapters share: their parser, bibliography, exercise numbers and section titles."""

    root: Path
    parser: MarkdownIt
    labels: dict[str, str] = field(default_factory=dict)  # exercise label -> "Exercise 2.1"
    titles: dict[str, str] = field(default_factory=dict)  # section label -> its heading
    pending: list[tuple[str, str, str]] = field(default_factory=list)  # (role, label, explicit text)
    _bibliography: dict[str, tuple[list[str], str]] | None = None

    def cite(self, role: str, keys: str, where: str) -> str:
        """Author-year text for a `{cite}` role: "(LeCun et al., 1998)", or "LeCun et al. (1998)" for cite:t."""
        entries = []
        for key in (key.strip() for key in keys.split(",")):
            if key not in self.bibliography():
                raise StudentVersionError(f"{where} cites {key!r}, which the book's bibliography does not hold")
            names, year = self.bibliography()[key]
            authors = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
            entries.append((authors, year))
        if role.startswith("cite:t"):
            return "; ".join(f"{authors} ({year})" for authors, year in entries)
        return "(" + "; ".join(f"{authors}, {year}" for authors, year in entries) + ")"

    def bibliography(self) -> dict[str, tuple[list[str], str]]:
        """Last names of the authors and the year of every entry of the bib files that `_config.yml` names."""
        if self._bibliography is None:
            from pybtex.database import parse_file  # only a book that cites needs it

            self._bibliography = {}
            for name in load_yaml(self.root / "_config.yml").get("bibtex_bibfiles", []):
                for key, entry in parse_file(self.root / name).entries.items():
                    names = [
                        " ".join(person.last_names).replace("{", "").replace("}", "")
                        for person in entry.persons.get("author", [])
                    ]
                    self._bibliography[key] = names or ["Anonymous"], entry.fields.get("year", "n.d.")
        return self._bibliography

    def reference(self, role: str, content: str) -> str:
        """A placeholder for a `{ref}` or `{numref}` role, resolved by `resolve` once all labels are known."""
        explicit = EXPLICIT.match(content)
        text, label = (explicit[1], explicit[2].strip()) if explicit else ("", content.strip())
        self.pending.append((role, label, text))
        return f"\x00{len(self.pending) - 1}\x00"

    def resolve(self, text: str, where: str) -> str:
        """Replace the reference placeholders in `text` with exercise numbers, headings or explicit texts."""

        def one(match: re.Match) -> str:
            role, label, explicit = self.pending[int(match[1])]
            if explicit and not (role == "numref" and label in self.labels):
                return explicit
            if label in self.labels:
                number = self.labels[label].split(" ", 1)[-1]
                return explicit.replace("%s", number).replace("{number}", number) if explicit else self.labels[label]
            if label in self.titles:
                return self.titles[label]
            raise StudentVersionError(f"{where} refers to the label {label!r}, which no chapter defines")

        return PENDING.sub(one, text)


def load_yaml(path: Path) -> dict:
    """The mapping in the YAML file at `path`, or an empty one when there is no such file."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StudentVersionError(f"{path} is not valid YAML ({' '.join(str(exc).split())})") from exc
    return data if isinstance(data, dict) else {}


def find_book(source: Path) -> Book:
    """The book whose `_toc.yml` is in `source` or the nearest folder above it, with its MyST parser."""
    root = next((folder for folder in [source, *source.resolve().parents] if (folder / "_toc.yml").is_file()), None)
    if root is None:
        raise StudentVersionError(
            f"no _toc.yml in {source} or a folder above it; the chapters are the notebooks it lists"
        )
    extensions = load_yaml(root / "_config.yml").get("parse", {}).get("myst_enable_extensions", ["colon_fence"])
    return Book(root, create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML))


def toc_chapters(book: Book, source: Path) -> list[Chapter]:
    """The notebooks in `source` that `_toc.yml` lists, numbered as the site numbers its chapters.

    Chapters of the numbered parts are numbered 1, 2, ... in order, across parts, as Jupyter Book
    does; when no part is numbered, by their position among all chapters.
    """
    toc = load_yaml(book.root / "_toc.yml")
    parts = toc.get("parts") or [toc]
    default = (toc.get("defaults") or toc.get("options") or {}).get("numbered", False)
    numbered = [part for part in parts if part.get("numbered", default)] or parts
    chapters, number = [], 0
    for part in parts:
        for entry in part.get("chapters") or []:
            number += part in numbered
            path = book.root / str(entry.get("file", ""))
            path = path if path.suffix == ".ipynb" else path.with_name(path.name + ".ipynb")
            if "file" in entry and path.is_file() and path.parent.resolve() == source.resolve():
                chapters.append(Chapter(path, number if part in numbered else None))
    return chapters


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


@dataclass
class Rewriter:
    """Rewrite one chapter's markdown for plain Jupyter, dropping solutions; one gate may span cells."""

    book: Book
    chapter: Chapter
    glue: dict[str, nbformat.NotebookNode]
    gate: str | None = None  # label of the open solution-start, if any
    gate_cell: int = 0
    blocks: int = 0  # solution directives removed from markdown cells
    exercises: int = 0
    cell: int = 0

    @property
    def where(self) -> str:
        """The chapter and cell an error message points to."""
        return f"{self.chapter.path.name}: cell {self.cell}"

    def markdown(self, text: str, top: bool = True) -> list[str]:
        """The lines of `text` rewritten, without solutions; inside an open gate only what follows its end."""
        lines = text.splitlines()
        tokens = self.book.parser.parse(text)
        kept: list[str] = []
        cursor = 0  # the first line not yet copied or replaced
        for index, token in enumerate(tokens):
            if not token.map or token.map[0] < cursor:
                continue  # a block's opening token (its lines are copied or replaced below) or a nested one
            start, end = token.map
            if token.type in ("fence", "colon_fence") and (directive := DIRECTIVE.match(token.info)):
                before = lines[cursor:start] if self.gate is None else []
                replacement = self.directive(directive[1], directive[2].strip(), token.content, top)
            elif token.type in ("myst_target", "myst_line_comment", "myst_block_break"):
                if (
                    token.type == "myst_target"
                    and tokens[index + 1 : index + 2]
                    and tokens[index + 1].type == "heading_open"
                ):
                    self.book.titles[token.content] = tokens[index + 2].content
                before, replacement = lines[cursor:start] if self.gate is None else [], []
            elif token.type == "inline":
                row = [other for other in tokens[index:] if other.type == "inline" and other.map == token.map]
                before = lines[cursor:start] if self.gate is None else []
                replacement = self.inline("\n".join(lines[start:end]), row).split("\n") if self.gate is None else []
            else:
                continue
            kept.extend([*before, *replacement])
            cursor = end
        if self.gate is None:
            kept.extend(lines[cursor:])
        return kept

    def directive(self, name: str, argument: str, body: str, top: bool) -> list[str]:
        """The plain-markdown lines for one MyST directive."""
        if name in ("solution-start", "solution-end") and not top:
            raise StudentVersionError(f"{self.where} nests a {name} inside another directive")
        if name == "solution-start":
            if self.gate is not None:
                raise StudentVersionError(
                    f"{self.where} opens a solution-start inside the solution-start {self.gate} "
                    f"of cell {self.gate_cell}"
                )
            self.gate, self.gate_cell = argument or "(no label)", self.cell
            return []
        if name == "solution-end":
            if self.gate is None:
                raise StudentVersionError(f"{self.where} has a solution-end without a solution-start")
            self.gate = None
            return []
        options, content = split_options(body)
        if name in ("exercise", "exercise-start"):  # the gated form's cells between start and end stay
            return self.exercise(argument, options, content)
        if self.gate is not None:
            return []
        if name == "solution":
            self.blocks += 1
            return []
        if name == "exercise-end":
            return []
        if name in ADMONITIONS:
            title = argument if name == "admonition" else "See also" if name == "seealso" else name.capitalize()
            content = content if name == "admonition" or not argument else f"{argument}\n{content}"
            return block_quote([f"**{self.inline(title)}**", "", *self.markdown(content, top=False)])
        if name == "math":
            return ["$$", *content.splitlines(), "$$"]
        if name in CODE_DIRECTIVES:
            fence = "`" * max(3, *(len(run) + 1 for run in re.findall("`+", content)))
            return [f"{fence}{argument}", *content.splitlines(), fence]
        if name.startswith("glue"):
            raise StudentVersionError(
                f"{self.where} uses a {{{name}}} directive, which plain Jupyter cannot show; "
                "show the object in a cell's output and glue only numbers for the text"
            )
        return self.markdown(content, top=False)  # any other directive: its content reads as plain markdown

    def exercise(self, title: str, options: dict[str, str], content: str) -> list[str]:
        """An exercise as "**Exercise n.k** (title)" and its content, numbered as sphinx-exercise numbers it."""
        numbered = "nonumber" not in options
        self.exercises += numbered
        number = f"{self.chapter.number}.{self.exercises}" if self.chapter.number else str(self.exercises)
        heading = f"Exercise {number}" if numbered else "Exercise"
        if "label" in options:
            self.book.labels[options["label"]] = heading
        if self.gate is not None:
            return []
        return [
            f"**{heading}**" + (f" ({self.inline(title)})" if title else ""),
            "",
            *self.markdown(content, top=False),
        ]

    def inline(self, text: str, tokens: list[Token] | None = None) -> str:
        """`text` with each MyST role that markdown-it finds in it (or in its `tokens`) replaced by plain text."""
        tokens = tokens or self.book.parser.parseInline(text)
        cursor = 0
        for role in (child for token in tokens for child in token.children or [] if child.type == "myst_role"):
            name = role.meta["name"]
            pattern = r"\s".join(re.escape(part) for part in role.content.split(" "))
            found = re.compile(rf"\{{{re.escape(name)}\}}(`+){pattern}\1").search(text, cursor)
            if found is None:  # markdown-it saw a role the text does not spell as expected: leave it
                continue
            plain = self.role(name, role.content)
            text = text[: found.start()] + plain + text[found.end() :]
            cursor = found.start() + len(plain)
        return text

    def role(self, name: str, content: str) -> str:
        """The plain text for one role."""
        if name in GLUE_ROLES:
            return self.glued(name, content)
        if name == "cite" or name.startswith("cite:"):
            return self.book.cite(name, content, self.where)
        if name in ("ref", "numref"):
            return self.book.reference(name, content)
        if name == "math":
            return f"${content}$"
        explicit = EXPLICIT.match(content)  # {doc}, {term}, {abbr}, ...: their text
        return explicit[1] if explicit else content

    def glued(self, name: str, content: str) -> str:
        """The value a glue role pastes, formatted as myst-nb formats it."""
        key, spec = content.rsplit(":", 1) if name == "glue:text" and ":" in content else (content, "")
        if "::" in key:
            raise StudentVersionError(f"{self.where} pastes {key!r} from another notebook; glue it in this chapter")
        if key not in self.glue:
            raise StudentVersionError(
                f"{self.where} pastes the glue key {key!r}, which no output of {self.chapter.path.name} holds; "
                "execute the chapter (make notebooks) so that its outputs carry the glued values"
            )
        data = self.glue[key].data
        if name == "glue:md":
            return data.get("text/markdown", "").strip()
        try:
            return format_plain_text(data.get("text/plain", ""), spec)
        except (TypeError, ValueError) as exc:
            raise StudentVersionError(f"{self.where} cannot format the glued {key!r} as {spec!r} ({exc})") from exc

    def rewrite(self, cell: nbformat.NotebookNode, number: int) -> None:
        """Rewrite a markdown cell in place, or tag any cell inside a solution for removal."""
        self.cell = number
        inside = self.gate is not None
        if cell.cell_type == "markdown":
            text = re.sub(r"\n{3,}", "\n\n", "\n".join(self.markdown(cell.source))).strip("\n")
            if text.strip():
                cell.source = text
                return
        elif not inside:
            return
        cell.metadata.setdefault("tags", []).append(SOLUTION_TAG)


def glue_values(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The glued outputs of an executed notebook by key, as myst-nb extracts them (mime prefix removed)."""
    return {
        key: output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for key, output in extract_glue_data_cell(cell)
    }


def student_notebook(book: Book, chapter: Chapter) -> tuple[nbformat.NotebookNode, int, int]:
    """The chapter without solutions, outputs and MyST syntax; the cells removed and the blocks cut from cells."""
    try:
        notebook = nbformat.read(chapter.path, as_version=4)
    except ValueError as exc:  # nbformat's NotJSONError is one
        raise StudentVersionError(f"{chapter.path.name} is not a readable notebook: {exc}") from exc
    rewriter = Rewriter(book, chapter, glue_values(notebook))
    for number, cell in enumerate(notebook.cells):
        rewriter.rewrite(cell, number)
    if rewriter.gate is not None:
        raise StudentVersionError(
            f"{chapter.path.name}: the solution-start {rewriter.gate} in cell {rewriter.gate_cell} has no matching "
            "solution-end"
        )
    cells = len(notebook.cells)
    for preprocessor in (
        TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}),
        ClearOutputPreprocessor(),
        ClearMetadataPreprocessor(
            preserve_cell_metadata_mask={"tags"}, preserve_nb_metadata_mask={"kernelspec", "language_info"}
        ),
    ):
        notebook, _ = preprocessor.preprocess(notebook, {})
    return notebook, cells - len(notebook.cells), rewriter.blocks


# --------------------------------------------------------------------------- the output folder


def sha256(path: Path) -> str:
    """The SHA-256 of the file at `path`."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def owned_files(target: Path) -> dict[str, str]:
    """The files an earlier run wrote into `target`, with their SHA-256, from its manifest."""
    manifest = target / MANIFEST
    if manifest.is_symlink():
        raise StudentVersionError(f"{manifest} is a symbolic link; remove it, this script never writes through links")
    if not manifest.exists():
        return {}
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        if not all(isinstance(name, str) and isinstance(digest, str) for name, digest in files.items()):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StudentVersionError(
            f"{manifest} is not a manifest this script wrote; move it away and run again"
        ) from exc
    return files


def check_target(source: Path, target: Path, names: list[str]) -> dict[str, str]:
    """Refuse an output folder where writing `names` would replace what is not the script's own; return its files."""
    if target.is_symlink():
        raise StudentVersionError(f"{target} is a symbolic link; give a real folder, nothing is written through links")
    if target.exists() and not target.is_dir():
        raise StudentVersionError(f"{target} exists and is not a folder; choose another output folder")
    if target.exists() and target.resolve() == source.resolve():
        raise StudentVersionError(f"the output folder must differ from the input folder {source}")
    owned = owned_files(target) if target.exists() else {}
    for name in names:
        path = target / name
        if path.is_symlink():
            raise StudentVersionError(f"{path} is a symbolic link; remove it or choose another output folder")
        if path.exists() and name not in owned:
            raise StudentVersionError(
                f"{path} exists and this script did not write it (it is not in {MANIFEST}); "
                "move it away or choose another output folder"
            )
        if path.exists() and (not path.is_file() or sha256(path) != owned[name]):
            raise StudentVersionError(f"{path} was changed since this script wrote it; move it away and run again")
    return owned


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` to a new file next to `path`, then rename it over `path`: a link there is replaced, not followed."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # the mode a plain open() gives, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_student_version(source: Path, target: Path) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Write the student version of the book's chapters in `source` into `target`.

    Returns (name, cells removed, solution blocks cut) per chapter, and the files of an earlier run removed.
    """
    if not source.is_dir():
        raise StudentVersionError(f"{source} is not a folder; give the folder that holds the chapter notebooks")
    book = find_book(source)
    chapters = toc_chapters(book, source)
    if not chapters:
        raise StudentVersionError(f"no notebooks (*.ipynb) in {source} are listed in {book.root / '_toc.yml'}")
    results = [(chapter.path.name, *student_notebook(book, chapter)) for chapter in chapters]  # all before any write
    texts = {}
    for name, notebook, *_ in results:
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = book.resolve(cell.source, f"{name}")
        nbformat.validate(notebook)
        texts[name] = nbformat.writes(notebook).encode("utf-8") + b"\n"
    owned = check_target(source, target, list(texts))
    target.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        """Record what the script owns now, after each change, so that an interrupted run leaves a true record."""
        manifest = {"written_by": "scripts/make_student_version.py", "files": owned}
        replace_file(target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n")

    for name, data in texts.items():
        replace_file(target / name, data)
        owned[name] = hashlib.sha256(data).hexdigest()
        save()
    removed = []
    for name in sorted(set(owned) - set(texts)):  # an old chapter's notebook would still hold what it held
        path = target / name
        if path.is_file() and not path.is_symlink() and sha256(path) == owned[name]:
            path.unlink()
            removed.append(name)
        del owned[name]  # changed or gone: no longer the script's
        save()
    return [(name, cells, blocks) for name, _, cells, blocks in results], removed


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with the chapter notebooks, e.g. book")
    parser.add_argument("target", type=Path, help="folder to write the student notebooks into, e.g. student")
    args = parser.parse_args(argv)
    try:
        results, removed = write_student_version(args.source, args.target)
    except (StudentVersionError, nbformat.ValidationError, OSError) as exc:
        print(f"make_student_version: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # every file is replaced whole and recorded at once, so nothing is half-written
        print(f"make_student_version: interrupted; {args.target} holds what was finished", file=sys.stderr)
        return 130
    for name, cells, blocks in results:
        print(f"{args.target / name}: {cells} cells removed, {blocks} solution blocks cut from markdown cells")
    for name in removed:
        print(f"{args.target / name}: removed, written by an earlier run for a chapter that no longer exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
