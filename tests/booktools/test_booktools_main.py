"""`python -m booktools` (booktools/__main__.py): where editions may be written, and one line for every refusal.

Generated files live under `_build/` only, so nothing there is anyone's work; what remains to defend is the
path itself: an edition is never written through a symbolic link, over something that is not a regular file,
or into the book's checkout outside `_build/` (where an answer key could be committed).
"""

from __future__ import annotations

import subprocess
import sys
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


def test_an_edition_is_never_written_into_the_checkout_outside_build(book: Path) -> None:
    assert_refused(run_booktools("editions", book / "book", "student", book=book), "outside _build/")
    assert not (book / "book" / "student").exists()
    # The arguments the wrong way round (`editions student`): OUT is ./student, in the checkout.
    result = subprocess.run(
        [sys.executable, "-m", "booktools", "--book", ".", "editions", "student"],
        cwd=book,
        capture_output=True,
        text=True,
    )
    assert_refused(result, "student is in the book's checkout outside _build/")
    assert not (book / "student").exists()


def test_a_file_where_the_output_folder_goes_is_refused_in_one_line(book: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    assert_refused(
        run_booktools("editions", tmp_path / "afile", "student", book=book), "afile exists and is not a folder"
    )
    assert (tmp_path / "afile").read_text() == "mine"


def test_an_unknown_edition_is_refused_before_anything_is_written(book: Path, tmp_path: Path) -> None:
    result = run_booktools("editions", tmp_path / "out", "colab", "teacher", book=book)
    assert result.returncode == 2
    assert "no edition is called teacher" in result.stderr
    assert not (tmp_path / "out").exists()
