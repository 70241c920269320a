"""The editions of the book's chapters, from one pass over each chapter: Colab, student and answer key.

* **colab**: what the site's Colab buttons open. MyST-free markdown with the glued values filled in,
  figure captions under their figures, the chapter's references at its end, the reference run's
  outputs, and each solution folded in a `<details>` block of markdown (its code a code block with
  its reference output), so "Run all" never runs a solution.
* **student**: no solutions and no outputs.
* **key**: the solutions unfolded as runnable cells with their reference outputs, and the model
  answers of the teaching page's discussion questions (book/answers/discussion.md). For the teacher
  only: `make key` writes it into `_build/key`, never into the site.

In the Colab and student editions every exercise is followed by room to answer: an empty code cell,
and a markdown cell to write in when the exercise asks a question in words.

In every edition the install cell is written for this release (`booktools.install`), and the cells
the site removes are reduced to what a reader should see: `glue()` calls go (plain Jupyter shows
nothing for them), the checks stay, folded, because a reader's run prints its notes there.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .chapters import Chapter
from .glue import is_glue_record
from .install import is_install_cell, rewrite_install
from .myst import Book, ChapterRenderer, Fold, RenderError, fence, read_notebook

ANSWERS = Path("book") / "answers" / "discussion.md"  # the discussion questions' model answers, for the key only
HIDING_TAGS = {"remove-cell", "remove-input", "hide-input"}
HIDDEN = {"jupyter": {"source_hidden": True}, "cellView": "form"}  # Jupyter and Colab fold the code
NBVAL_COMMENT = re.compile(r"^# NBVAL_\w+[ \t]*\n?", re.M)  # nbval's markers mean nothing to a reader


@dataclass(frozen=True)
class Edition:
    """How one edition shows outputs and solutions."""

    outputs: bool  # the reference run's outputs are kept
    solutions: str  # "fold" (markdown in <details>), "drop", or "show" (unfolded, runnable)
    answers: bool  # room to answer after every exercise


EDITIONS = {
    "colab": Edition(outputs=True, solutions="fold", answers=True),
    "student": Edition(outputs=False, solutions="drop", answers=True),
    "key": Edition(outputs=True, solutions="show", answers=False),
}
ANSWER_PROMPT = "**Your answer** (double-click this cell to write it):"


def details(title: str, lines: list[str]) -> list[str]:
    """`lines` folded under `title` in an HTML <details> block, which Jupyter and Colab render closed."""
    return ["<details>", f"<summary>{title}</summary>", "", *lines, "", "</details>"]


FOLDS: dict[str, Fold] = {
    "fold": details,
    "drop": lambda title, lines: [],
    "show": lambda title, lines: [f"**{title}**", "", *lines],
}


def without_glue(source: str, hidden: bool) -> str:
    """`source` without its top-level `glue(..., display=False)` statements (in a `hidden` cell any glue call).

    Empty when only comments would remain.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax: leave the cell as it is
        return source
    dropped = {
        line
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "glue"
        and (
            hidden or any(k.arg == "display" and getattr(k.value, "value", True) is False for k in node.value.keywords)
        )
        and not any(isinstance(inner, ast.NamedExpr) for inner in ast.walk(node))  # it assigns: keep it
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    kept = [line for number, line in enumerate(source.splitlines(), 1) if number not in dropped]
    code = [line for line in kept if line.strip() and not line.lstrip().startswith("#")]
    return "\n".join(kept).strip("\n") if code else ""


def code_cell(cell: nbformat.NotebookNode, edition: Edition) -> nbformat.NotebookNode | None:
    """A chapter's code cell as `edition` shows it, or None when nothing a reader should see is left."""
    tags = list(cell.metadata.get("tags", []))
    source = NBVAL_COMMENT.sub("", cell.source)
    hidden = bool(HIDING_TAGS & set(tags))
    if is_install_cell(source):
        source, hidden = rewrite_install(source), False  # it must run in Colab, and a reader sees what it installs
    else:
        source = without_glue(source, hidden)
        if not source:
            return None
    metadata: dict = {"tags": tags} if tags else {}
    if hidden and not source.startswith("%%"):  # a cell magic must stay the first line
        title = "Check the text's claims against this run" if "check(" in source else "Code the site hides"
        source = f"#@title {title} (double-click to show the code)\n{source}"
        metadata.update(HIDDEN)
    keep = edition.outputs and "remove-output" not in tags
    outputs = [output for output in cell.outputs if not is_glue_record(output)] if keep else []
    if "hide-output" in tags:
        metadata.setdefault("jupyter", {})["outputs_hidden"] = True
    return new_code_cell(
        source, outputs=outputs, execution_count=cell.execution_count if outputs else None, metadata=metadata
    )


def output_markdown(output: nbformat.NotebookNode) -> list[str]:
    """One output of a solution's code as markdown: text in a code block, an image inline, a table as HTML."""
    if output.output_type == "stream":
        return fence(output.text.rstrip("\n"), "text")
    data = output.get("data", {})
    if "image/png" in data:
        return [f"![output](data:image/png;base64,{''.join(data['image/png'].split())})"]
    if "text/html" in data:  # without <style> (a markdown cell may show it as text) and blank lines (they end it)
        html = re.sub(r"<style.*?</style>", "", data["text/html"], flags=re.S)
        return [line for line in html.splitlines() if line.strip()]
    if "text/markdown" in data:
        return data["text/markdown"].splitlines()
    if "text/plain" in data:
        return fence(data["text/plain"].rstrip("\n"), "text")
    return []


def solution_cells(edition: Edition, title: str, cells: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """The cells of one gated solution (from solution-start to solution-end) as `edition` shows them."""
    shown = [
        cell for cell in cells if not (cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", []))
    ]
    if edition.solutions == "drop":
        return []
    if edition.solutions == "show":
        code = (code_cell(cell, edition) if cell.cell_type == "code" else cell for cell in shown)
        return [new_markdown_cell(f"**{title}**"), *filter(None, code)]
    lines: list[str] = []
    for cell in shown:
        if cell.cell_type == "markdown":
            lines += [*cell.source.splitlines(), ""]
        else:
            lines += fence(NBVAL_COMMENT.sub("", cell.source), "python")
            for output in cell.outputs:
                if not is_glue_record(output) and output.output_type != "error":
                    lines += ["", *output_markdown(output)]
            lines.append("")
    return [new_markdown_cell("\n".join(details(title, lines)))]


def answer_cells(asks: str) -> list[nbformat.NotebookNode]:
    """The room to answer an exercise: an empty code cell, and a cell to write in when it `asks` for "words"."""
    return [new_code_cell(""), *([new_markdown_cell(ANSWER_PROMPT)] if asks == "words" else [])]


def tidy(lines: list[str]) -> str:
    """Rewritten markdown lines as a cell's text: no runs of blank lines, none at either end."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


@dataclass
class Result:
    """One notebook of an edition and what the generator did to its chapter."""

    notebook: nbformat.NotebookNode
    cells_before: int
    solutions: int


def chapter_edition(book: Book, chapter: Chapter, edition: Edition) -> Result:
    """The chapter as `edition` shows it (references still placeholders until `Book.resolve`)."""
    source = read_notebook(chapter.path)
    renderer = ChapterRenderer(book, chapter, FOLDS[edition.solutions])
    items: list[tuple[str | None, nbformat.NotebookNode]] = []  # (solution gate or None, cell)
    for index, cell in enumerate(source.cells):
        renderer.cell = index
        if cell.cell_type == "markdown":
            for segment in renderer.markdown(cell.source):
                if text := tidy(segment.lines):
                    items.append((segment.gate, new_markdown_cell(text)))
                if segment.answer and edition.answers:
                    items.extend((None, answer) for answer in answer_cells(segment.answer))
        elif cell.cell_type == "code":
            tagged = renderer.gate is None and "solution" in cell.metadata.get("tags", [])
            renderer.solutions += tagged
            items.append((f"@{index}" if tagged else renderer.gate, cell))  # a cell tagged `solution` is one
            if caption := renderer.figure(cell):
                items.append((renderer.gate, new_markdown_cell("\n".join(caption))))
    if renderer.gate is not None:
        raise RenderError(
            f"{chapter.path.name}: the solution-start {renderer.gate.rpartition('@')[0] or '(no label)'} in cell "
            f"{renderer.gate_cell} has no matching solution-end"
        )
    cells: list[nbformat.NotebookNode] = []
    for gate, group in groupby(items, key=lambda item: item[0]):
        group_cells = [cell for _, cell in group]
        if gate is None:
            shown = (
                code_cell(cell, edition) if cell.cell_type == "code" and cell.source else cell for cell in group_cells
            )
            cells.extend(filter(None, shown))
        else:
            cells.extend(solution_cells(edition, renderer.solution_title(gate.rpartition("@")[0]), group_cells))
    if renderer.cited:
        references = book.bibliography.references(renderer.cited)
        cells.append(new_markdown_cell("\n".join(["## References", "", *references])))
    kept = {key: value for key, value in source.metadata.items() if key in ("kernelspec", "language_info")}
    notebook = new_notebook(cells=cells, metadata=kept)
    return Result(notebook, len(source.cells), renderer.solutions)


def answers_edition(book: Book, path: Path) -> Result:
    """The discussion questions' model answers (a MyST markdown file) as a notebook, one cell per `+++` block."""
    text = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.S)  # front matter
    renderer = ChapterRenderer(book, Chapter(0, path), FOLDS["show"])
    blocks = [
        tidy([line for segment in renderer.markdown(block) for line in segment.lines])
        for block in re.split(r"^\+\+\+.*$", text, flags=re.M)
    ]
    return Result(new_notebook(cells=[new_markdown_cell(block) for block in blocks if block]), 1, 0)


def render(root: Path, names: list[str]) -> dict[str, dict[str, Result]]:
    """Every chapter of the book at `root` in each edition of `names`, by edition and file name."""
    book = Book.load(root)
    results = {
        name: {chapter.path.name: chapter_edition(book, chapter, EDITIONS[name]) for chapter in book.chapters}
        for name in names
    }
    if "key" in results and (root / ANSWERS).is_file():
        results["key"]["discussion.ipynb"] = answers_edition(book, root / ANSWERS)
    for notebooks in results.values():
        for file, result in notebooks.items():
            for index, cell in enumerate(result.notebook.cells):
                cell.id = f"cell-{index}"  # the same on every run: the colab branch changes where the book does
                if cell.cell_type == "markdown":
                    cell.source = book.resolve(cell.source, file)
            nbformat.validate(result.notebook)
    return results
