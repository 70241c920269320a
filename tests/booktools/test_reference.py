"""booktools.reference: the reference run's refusals, which come before anything is moved or written."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from booktools import reference


def test_an_unknown_chapter_is_refused_before_the_checkpoints_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("LENET_CACHE", str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "lenet-tanh.pt").write_bytes(b"weights")
    assert reference.main(["--allow-busy", "99_no_such_chapter"]) == 2
    assert (tmp_path / "checkpoints" / "lenet-tanh.pt").read_bytes() == b"weights"
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "no chapter is called 99_no_such_chapter" in err


def test_the_code_digest_follows_the_package_and_the_code_cells(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    notebook = new_notebook(cells=[new_code_cell("print(1)")])
    before = reference.code_digest(notebook, package)
    (package / "a.py").write_text("x = 2\n")
    assert reference.code_digest(notebook, package) != before
    changed = nbformat.from_dict({**notebook, "cells": [new_code_cell("print(2)")]})
    assert reference.code_digest(changed, package) != reference.code_digest(notebook, package)


def test_the_machine_is_described_once() -> None:
    described = reference.machine()
    assert "logical CPUs" in described
