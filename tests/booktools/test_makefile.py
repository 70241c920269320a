"""The Makefile's targets for generated files: `make student` and `make key` write under _build/, `make clean`
removes _build and nothing else, even where _build or something in it is a link (checkout in an odd folder)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from booktools.chapters import ROOT


def make(checkout: Path, target: str) -> subprocess.CompletedProcess:
    """`make TARGET` in `checkout`, with the venv marked as installed so nothing is installed."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(["make", "--no-print-directory", target], cwd=checkout, capture_output=True, text=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder with the Makefile, as a student's might be named (a space and an accent)."""
    folder = tmp_path / "My Projects" / "lénet"
    folder.mkdir(parents=True)
    shutil.copy2(ROOT / "Makefile", folder / "Makefile")
    return folder


def test_make_clean_removes_build_and_nothing_through_its_links(checkout: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    (checkout / "_build" / "html").mkdir(parents=True)
    (checkout / "_build" / "html" / "sub").symlink_to(elsewhere)
    (checkout / "notes.txt").write_text("mine")
    assert make(checkout, "clean").returncode == 0
    assert not (checkout / "_build").exists()
    assert (elsewhere / "keep.txt").read_text() == "mine"
    assert (checkout / "notes.txt").read_text() == "mine"


def test_make_clean_removes_a_linked_build_but_not_its_target(checkout: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    (checkout / "_build").symlink_to(elsewhere)
    assert make(checkout, "clean").returncode == 0
    assert not (checkout / "_build").is_symlink()
    assert (elsewhere / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("target", ["student", "key"])
def test_student_and_key_write_under_build(target: str) -> None:
    result = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"-m booktools editions _build {target}" in result.stdout
