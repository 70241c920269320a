"""Helpers for the tests of booktools: the real book's editions, synthetic books, and the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from nbformat.v4 import new_notebook, new_output

from booktools.chapters import ROOT, chapters

CHAPTERS = chapters()
GLUE_PREFIX = "application/papermill.record/"
# What plain Jupyter would show raw: MyST roles, directives, targets, comments and block breaks.
MYST = create_md_parser(MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath"}), RendererHTML)
STUDENT_EXERCISE = re.compile(r"^\*\*Exercise (\d+)\.(\d+)\*\*", re.M)  # as the editions number exercises
MYST_ONLY = {"myst_role", "myst_target", "myst_line_comment", "myst_block_break", "colon_fence"}


def run_booktools(*args: str | Path, book: Path = ROOT) -> subprocess.CompletedProcess:
    """`python -m booktools --book BOOK ARGS...`, as the Makefile runs it."""
    return subprocess.run(
        [sys.executable, "-m", "booktools", "--book", str(book), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """booktools failed with one line that says why (each of `words` in it), and no traceback."""
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("booktools: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def myst_only(text: str) -> list[str]:
    """The MyST-only syntax markdown-it finds in `text` (roles, directives, targets, comments), as strings."""
    found = []
    for token in MYST.parse(text):
        if token.type in MYST_ONLY or (token.type == "fence" and token.info.startswith("{")):
            found.append(f"{token.type} {token.info or token.content}")
        found.extend(f"role {child.meta['name']}" for child in token.children or [] if child.type == "myst_role")
    return found


def assert_no_outputs(notebook: nbformat.NotebookNode) -> None:
    """No code cell keeps an output or an execution count."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], cell.source[:80]
            assert cell.execution_count is None, cell.source[:80]


def markdown_text(notebook: nbformat.NotebookNode) -> str:
    """All markdown cells of `notebook`, one after another."""
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def write_book(root: Path, **notebooks: list[nbformat.NotebookNode]) -> Path:
    """A book in `root`: notebooks named by the keywords in root/book, listed in that order in a numbered part
    of root/_toc.yml (after an intro). Returns root."""
    source = root / "book"
    source.mkdir(parents=True, exist_ok=True)
    (source / "intro.md").write_text("# Intro\n")
    for name, cells in notebooks.items():
        kernelspec = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
        nbformat.write(new_notebook(cells=cells, metadata=kernelspec), source / f"{name}.ipynb")
    toc = {
        "format": "jb-book",
        "root": "book/intro",
        "parts": [{"caption": "Chapters", "numbered": True, "chapters": [{"file": f"book/{n}"} for n in notebooks]}],
    }
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return root


def glue_output(name: str, value: str) -> nbformat.NotebookNode:
    """A display output as myst-nb's glue(name, ..., display=False) stores it; `value` is the object's repr."""
    return new_output(
        "display_data",
        data={f"{GLUE_PREFIX}text/plain": value},
        metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}},
    )
