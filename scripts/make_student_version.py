"""Write the chapter notebooks without solutions or outputs: `python scripts/make_student_version.py book student`.

Solutions follow the sphinx-exercise conventions of the book:

* a `{solution}` directive inside a markdown cell: the whole fenced block is removed, including
  whatever it nests (fences of 3+ backticks or colons, closed by the first fence of the same
  character that is at least as long, as MyST parses them);
* the gated form: a `{solution-start}` directive, then any cells, then a `{solution-end}`
  directive; everything from the start through the end is removed.

Exercises stay. Every code cell loses its outputs and execution count. Only notebooks are
written, so nothing else that holds solutions (such as book/teaching.md) reaches the output.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

# An opening or closing fence: up to 3 spaces, then 3+ backticks or colons, then the info string.
FENCE = re.compile(r"^ {0,3}(`{3,}|:{3,})(.*)$")
# The directive name of a fence's info string, e.g. "solution" for "{solution} ch1-ex1".
DIRECTIVE = re.compile(r"^\s*\{([\w:-]+)\}")


class StudentVersionError(Exception):
    """A problem in the input that makes a safe student version impossible."""


def closing_fence(lines: list[str], start: int, fence: str) -> int:
    """Return the index of the line that closes the fence opened at `lines[start]` (len(lines) if none)."""
    for index in range(start + 1, len(lines)):
        match = FENCE.match(lines[index])
        if match and match[1][0] == fence[0] and len(match[1]) >= len(fence) and not match[2].strip():
            return index
    return len(lines)


class Stripper:
    """Remove solutions from a notebook's cells, keeping track of an open gated solution."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gate: str | None = None  # label of the open solution-start, if any
        self.gate_cell = 0
        self.blocks = 0  # solution directive blocks removed from markdown cells

    def strip_lines(self, lines: list[str], cell: int, top: bool = True) -> list[str]:
        """Return `lines` without solution blocks; inside an open gate every line is dropped."""
        kept: list[str] = []
        index = 0
        while index < len(lines):
            match = FENCE.match(lines[index])
            if not match or (match[1][0] == "`" and "`" in match[2]):  # not a fence, e.g. ```inline``` code
                if self.gate is None:
                    kept.append(lines[index])
                index += 1
                continue
            end = closing_fence(lines, index, match[1])
            name = DIRECTIVE.match(match[2])
            name = name[1] if name else None
            if not top and name in ("solution-start", "solution-end"):
                raise StudentVersionError(f"{self.name}: cell {cell} nests a {name} inside another directive")
            if name == "solution-start":
                if self.gate is not None:
                    raise StudentVersionError(
                        f"{self.name}: cell {cell} opens a solution-start inside the "
                        f"solution-start {self.gate} of cell {self.gate_cell}"
                    )
                self.gate, self.gate_cell = match[2].split("}", 1)[1].strip() or "(no label)", cell
            elif name == "solution-end":
                if self.gate is None:
                    raise StudentVersionError(f"{self.name}: cell {cell} has a solution-end without a solution-start")
                self.gate = None
            elif self.gate is not None:
                pass  # inside a gated solution: drop the block whatever it is
            elif name == "solution":
                self.blocks += 1
            elif name is None:  # a code block: its content is text, not markdown
                kept.extend(lines[index : end + 1])
            else:  # another directive: solutions may be nested in it
                kept.extend(
                    [
                        lines[index],
                        *self.strip_lines(lines[index + 1 : end], cell, top=False),
                        *lines[end : end + 1],
                    ]
                )
            index = end + 1
        return kept

    def strip_cell(self, cell: nbformat.NotebookNode, number: int) -> nbformat.NotebookNode | None:
        """Return the student version of `cell`, or None when nothing of it remains."""
        if cell.cell_type != "markdown":
            return None if self.gate is not None else cell
        original = cell.source.splitlines()
        lines = self.strip_lines(original, number)
        if lines == original:
            return cell
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        if not text.strip():
            return None
        cell.source = text
        return cell


def student_notebook(path: Path) -> tuple[nbformat.NotebookNode, int, int]:
    """Return the notebook at `path` without solutions and outputs, the cells removed and the blocks cut from cells."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except ValueError as exc:  # nbformat's NotJSONError is one
        raise StudentVersionError(f"{path.name} is not a readable notebook: {exc}") from exc
    stripper = Stripper(path.name)
    cells = []
    for number, cell in enumerate(notebook.cells):
        kept = stripper.strip_cell(cell, number)
        if kept is None:
            continue
        if kept.cell_type == "code":
            kept.outputs, kept.execution_count = [], None
        kept.metadata.pop("execution", None)
        cells.append(kept)
    if stripper.gate is not None:
        raise StudentVersionError(
            f"{path.name}: the solution-start {stripper.gate} in cell {stripper.gate_cell} has no matching solution-end"
        )
    removed = len(notebook.cells) - len(cells)
    notebook.cells = cells
    notebook.metadata.pop("widgets", None)
    return notebook, removed, stripper.blocks


def write_student_version(source: Path, target: Path) -> list[tuple[str, int, int]]:
    """Write the student version of every notebook in `source` into `target`; return (name, cells, blocks) removed."""
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise StudentVersionError(f"no notebooks (*.ipynb) in {source}")
    if target.resolve() == source.resolve():
        raise StudentVersionError(f"the output folder must differ from the input folder {source}")
    results = [(path.name, *student_notebook(path)) for path in notebooks]  # check all before writing any
    target.mkdir(parents=True, exist_ok=True)
    for stale in set(target.glob("*.ipynb")) - {target / name for name, *_ in results}:
        stale.unlink()  # an old chapter's notebook would still hold what it held
    for name, notebook, *_ in results:
        nbformat.write(notebook, target / name)
    return [(name, cells, blocks) for name, _, cells, blocks in results]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with the chapter notebooks, e.g. book")
    parser.add_argument("target", type=Path, help="folder to write the student notebooks into, e.g. student")
    args = parser.parse_args(argv)
    try:
        results = write_student_version(args.source, args.target)
    except (StudentVersionError, nbformat.ValidationError, OSError) as exc:
        print(f"make_student_version: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    for name, cells, blocks in results:
        print(f"{args.target / name}: {cells} cells removed, {blocks} solution blocks cut from markdown cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
