"""booktools.chapters: the one list of chapters, the notebooks of _toc.yml's numbered parts in order."""

from __future__ import annotations

from pathlib import Path

from edition_helpers import write_book
from nbformat.v4 import new_markdown_cell

from booktools.chapters import chapters


def test_chapters_are_numbered_in_toc_order(tmp_path: Path) -> None:
    root = write_book(tmp_path, b_first=[new_markdown_cell("# B")], a_second=[new_markdown_cell("# A")])
    assert [(chapter.number, chapter.stem) for chapter in chapters(root)] == [(1, "b_first"), (2, "a_second")]


def test_a_listed_notebook_that_does_not_exist_is_no_chapter(tmp_path: Path) -> None:
    root = write_book(tmp_path, one=[new_markdown_cell("# One")], two=[new_markdown_cell("# Two")])
    (root / "book" / "two.ipynb").unlink()
    assert [chapter.stem for chapter in chapters(root)] == ["one"]
