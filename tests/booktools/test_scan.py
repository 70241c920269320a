"""booktools.scan: the committed chapters hold no error, traceback or note (the site shows them as they are)."""

from __future__ import annotations

from pathlib import Path

import pytest
from edition_helpers import assert_refused, run_booktools, write_book
from nbformat.v4 import new_code_cell, new_output

from booktools.scan import output_problem
from lenet_utils.book import NOTE_PREFIX as NOTE


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        (new_output("error", ename="AssertionError", evalue="boom", traceback=[]), "an error (AssertionError: boom)"),
        (new_output("stream", name="stdout", text=f"ok\n{NOTE} The text says ...\n"), "a note"),
        (new_output("stream", name="stderr", text="Traceback (most recent call last):\n  x\n"), "a traceback"),
        (new_output("execute_result", data={"text/plain": f"{NOTE} ..."}, execution_count=1), "a note"),
        (new_output("stream", name="stdout", text=f"quoted: {NOTE}\n"), None),
    ],
    ids=["error", "note", "traceback", "note in a result", "a quoted note"],
)
def test_scan_finds_errors_and_notes(output, problem: str | None) -> None:
    found = output_problem(output, NOTE)
    assert (found is None) if problem is None else found.startswith(problem), found


def test_scan_command_fails_in_one_line(tmp_path: Path) -> None:
    """`python -m booktools scan`: the build's check, without a build."""
    broken = new_output("stream", name="stdout", text=f"{NOTE} The text says “x”; this run got y.\n")
    root = write_book(tmp_path, one=[new_code_cell("print()", execution_count=1, outputs=[broken])])
    assert_refused(run_booktools("scan", book=root), "book/one.ipynb cell 0 shows a note")
    clean = write_book(tmp_path / "clean", one=[new_code_cell("print()", execution_count=1, outputs=[])])
    assert run_booktools("scan", book=clean).returncode == 0
