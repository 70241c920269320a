"""`python -m booktools` (booktools/__main__.py): where editions may be written, and one line for every refusal.

Generated files live under `_build/` only, so nothing there is anyone's work; what remains to defend is the
path itself: an edition is never written through a symbolic link, over something that is not a regular file,
or into the book's sources.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from edition_helpers import assert_refused, run_booktools, write_book
from nbformat.v4 import new_markdown_cell

CHAPTER = [new_markdown_cell("# One\n\n```{exercise} Ask\nWhy?\n```")]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A one-chapter book in `tmp_path/book-root`."""
    return write_book(tmp_path / "book-root", one=CHAPTER)


def test_an_edition_replaces_its_own_earlier_files(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "_build" / "student"
    for _ in range(2):
        result = run_booktools("editions", target.parent, "student", book=book)
        assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in target.iterdir()) == ["one.ipynb"]  # no temporary file left


@pytest.mark.parametrize("linked", ["_build", "_build/key"])
def test_an_edition_is_never_written_through_a_link(book: Path, tmp_path: Path, linked: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / linked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / linked).symlink_to(elsewhere)
    assert_refused(run_booktools("editions", tmp_path / "_build", "key", book=book), "symbolic link")
    assert list(elsewhere.iterdir()) == []


def test_an_edition_is_never_written_over_a_link_or_a_folder(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "_build" / "student"
    target.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    (target / "one.ipynb").symlink_to(victim)
    assert_refused(run_booktools("editions", target.parent, "student", book=book), "not a regular file")
    assert victim.read_text() == "mine"
    (target / "one.ipynb").unlink()
    (target / "one.ipynb").mkdir()
    assert_refused(run_booktools("editions", target.parent, "student", book=book), "not a regular file")


def test_an_edition_is_never_written_into_the_sources(book: Path) -> None:
    assert_refused(run_booktools("editions", book / "book", "student", book=book), "book's sources")
    assert not (book / "book" / "student").exists()


def test_an_unknown_edition_is_refused_before_anything_is_written(book: Path, tmp_path: Path) -> None:
    result = run_booktools("editions", tmp_path / "out", "colab", "teacher", book=book)
    assert result.returncode == 2
    assert "no edition is called teacher" in result.stderr
    assert not (tmp_path / "out").exists()
