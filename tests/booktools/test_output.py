"""The output folder is the teacher's: the generator replaces only files it wrote, never through a link.

Also: an edition is refused inside the book's sources (nbval and the site would take the copies for
chapters), and a full disk is reported with the folder it happened in.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from edition_helpers import assert_refused, run_booktools, write_book
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from booktools import output
from booktools.output import MANIFEST, OLD_MANIFEST, OutputError, write_files

GATED = [
    new_markdown_cell("# A chapter"),
    new_code_cell("a = 1", execution_count=1, outputs=[new_output("stream", name="stdout", text="1\n")]),
    new_markdown_cell("```{exercise} First\n:label: syn-ex2\n\nCompute something.\n```"),
    new_markdown_cell("```{solution-start} syn-ex2\n```"),
    new_code_cell("SECRET = 2"),
    new_markdown_cell("```{solution-end}\n```"),
]


def make_student(book: Path, target: Path):
    """Write the student edition of the book at `book` into `target`, as `make student` does."""
    return run_booktools("edition", "student", target, book=book)


# --------------------------------------------------------------------------- the output folder is the teacher's


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A small book with one chapter, its source folder."""
    return write_book(tmp_path, gated=GATED)


def test_other_files_in_the_output_folder_survive(book: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    own_work = nbformat.writes(new_notebook(cells=[new_markdown_cell("# Mine")]))
    (course / "my_own_work.ipynb").write_text(own_work)
    (course / "notes.txt").write_text("mine")
    for _ in range(2):  # the second run replaces the script's own files and nothing else
        result = make_student(book, course)
        assert result.returncode == 0, result.stderr
    assert (course / "my_own_work.ipynb").read_text() == own_work
    assert (course / "notes.txt").read_text() == "mine"
    assert json.loads((course / MANIFEST).read_text())["files"].keys() == {"gated.ipynb"}
    umask = os.umask(0)
    os.umask(umask)
    assert (course / "gated.ipynb").stat().st_mode & 0o777 == 0o666 & ~umask  # not a temporary file's 0600


def test_never_writes_through_a_link(book: Path, tmp_path: Path) -> None:
    """A link in the output folder to the book's own notebook must not cost the book its solutions."""
    target = tmp_path / "student"
    target.mkdir()
    (target / "gated.ipynb").symlink_to(book / "book" / "gated.ipynb")
    before = (book / "book" / "gated.ipynb").read_bytes()
    assert_refused(make_student(book, target), "gated.ipynb is a symbolic link")
    assert (book / "book" / "gated.ipynb").read_bytes() == before
    assert (target / "gated.ipynb").is_symlink()
    assert not (target / MANIFEST).exists()


@pytest.mark.parametrize("link", ["folder", "manifest"])
def test_refuses_a_linked_folder_or_manifest(book: Path, tmp_path: Path, link: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "student"
    if link == "folder":
        target.symlink_to(book / "book")  # would write the student edition over the book
    else:
        target.mkdir()
        (target / MANIFEST).symlink_to(elsewhere / "manifest.json")
    assert_refused(make_student(book, target), "symbolic link")
    assert sorted(path.name for path in elsewhere.iterdir()) == []
    assert nbformat.read(book / "book" / "gated.ipynb", as_version=4).cells[1].outputs  # the book is untouched


def test_refuses_to_replace_a_file_it_did_not_write(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "student"
    target.mkdir()
    (target / "gated.ipynb").write_text("the teacher's own gated.ipynb")
    assert_refused(make_student(book, target), "gated.ipynb exists and the generator did not write it")
    assert (target / "gated.ipynb").read_text() == "the teacher's own gated.ipynb"


def test_refuses_to_replace_a_file_changed_since_it_wrote_it(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "student"
    assert make_student(book, target).returncode == 0
    with (target / "gated.ipynb").open("a") as stream:
        stream.write("\n")  # the teacher added something
    changed = (target / "gated.ipynb").read_text()
    assert_refused(make_student(book, target), "gated.ipynb was changed since the generator wrote it")
    assert (target / "gated.ipynb").read_text() == changed


@pytest.mark.parametrize("problem", ["not a folder", "damaged manifest"])
def test_refuses_an_unusable_output_folder(book: Path, tmp_path: Path, problem: str) -> None:
    target = tmp_path / "student"
    if problem == "not a folder":
        target.write_text("a file")
        words = ("is not a folder",)
    else:
        target.mkdir()
        (target / MANIFEST).write_text("{not json")
        words = (MANIFEST, "not a manifest the generator wrote")
    assert_refused(make_student(book, target), *words)


def test_removes_only_its_own_unchanged_stale_notebooks(tmp_path: Path) -> None:
    """A chapter that left the book goes from the output, unless someone changed its student copy."""
    old = write_book(tmp_path / "old", gated=GATED, renamed=GATED, edited=GATED)
    target = tmp_path / "student"
    assert make_student(old, target).returncode == 0
    (target / "edited.ipynb").write_text("changed by the teacher")
    new = write_book(tmp_path / "new", gated=GATED)
    result = make_student(new, target)
    assert result.returncode == 0, result.stderr
    assert "renamed.ipynb: removed" in result.stdout
    assert sorted(path.name for path in target.iterdir()) == [MANIFEST, "edited.ipynb", "gated.ipynb"]
    assert json.loads((target / MANIFEST).read_text())["files"].keys() == {"gated.ipynb"}


def test_adopts_the_manifest_of_the_old_student_script(book: Path, tmp_path: Path) -> None:
    """A student/ folder made by scripts/make_student_version.py stays the generator's own."""
    target = tmp_path / "student"
    assert make_student(book, target).returncode == 0
    (target / MANIFEST).rename(target / OLD_MANIFEST)
    assert make_student(book, target).returncode == 0
    assert not (target / OLD_MANIFEST).exists()
    assert (target / MANIFEST).exists()


@pytest.mark.parametrize("inside", ["book", "book/student"])
def test_refuses_a_target_inside_the_sources(book: Path, inside: str) -> None:
    before = sorted(path.name for path in (book / "book").iterdir())
    assert_refused(make_student(book, book / inside), "inside the book's sources", "choose a folder outside it")
    assert sorted(path.name for path in (book / "book").iterdir()) == before


def test_a_full_disk_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "replace_file", full)
    with pytest.raises(OutputError, match=f"no space left on the device of {tmp_path / 'out'}"):
        write_files([tmp_path / "book"], tmp_path / "out", {"a.ipynb": b"{}"})


def test_a_real_full_disk_is_one_line(book: Path, tmp_path: Path) -> None:
    """On a 64 KiB tmpfs the first chapters fit and the next does not: one line, the folder named, a true manifest."""
    disk = tmp_path / "small disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if mount.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        big = write_book(tmp_path / "big", **{f"ch{n}": [new_markdown_cell("x" * 20_000)] for n in range(1, 6)})
        result = make_student(big, disk / "student")
        assert_refused(result, f"no space left on the device of {disk / 'student'}")
        written = json.loads((disk / "student" / MANIFEST).read_text())["files"]
        assert written
        assert all((disk / "student" / name).is_file() for name in written)
    finally:
        subprocess.run(["umount", str(disk)], check=True)
