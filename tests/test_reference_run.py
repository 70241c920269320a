"""The reference run (`make notebooks`) is strict; any other run of the same chapter notes and goes on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert.preprocessors import CellExecutionError

from booktools import reference
from lenet_utils.book import NOTE_PREFIX

pytestmark = pytest.mark.slow

FALSE_CLAIM = 'from lenet_utils.book import check\ncheck(1 > 2, "one is more than two", "1 <= 2")'


def chapter_with(tmp_path: Path, source: str) -> Path:
    """A one-cell notebook holding `source`."""
    path = tmp_path / "chapter.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(notebook, path)
    return path


def test_the_reference_run_fails_on_a_claim_that_does_not_hold(tmp_path, monkeypatch):
    monkeypatch.delenv("LENET_REFERENCE_RUN", raising=False)
    with pytest.raises(CellExecutionError, match="one is more than two"):
        reference.execute(chapter_with(tmp_path, FALSE_CLAIM), strict=True)


def test_a_readers_run_names_the_claim_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.delenv("LENET_REFERENCE_RUN", raising=False)
    notebook, _ = reference.execute(chapter_with(tmp_path, FALSE_CLAIM), strict=False)
    printed = notebook.cells[0].outputs[0]["text"]
    assert printed.startswith(NOTE_PREFIX)
    assert "“one is more than two”" in printed
    assert "1 <= 2" in printed


def test_the_code_digest_follows_the_code_cells(tmp_path):
    path = chapter_with(tmp_path, "x = 1")
    before = reference.code_digest(nbformat.read(path, as_version=4))
    changed = nbformat.read(path, as_version=4)
    changed.cells[0].source = "x = 2"
    assert reference.code_digest(changed) != before
    changed.cells.append(nbformat.v4.new_markdown_cell("prose does not change what the code printed"))
    changed.cells[0].source = "x = 1"
    assert reference.code_digest(changed) == before


@pytest.mark.real_data
def test_a_chapter_beside_a_cpu_hog_on_one_thread_runs_to_the_end(tmp_path, monkeypatch):
    """A reader's run on a busy machine (one thread, a busy-loop beside it) trains, notes, and never crashes."""
    chapter = next(c for c in reference.chapters() if c.stem == "02_lenet5_tanh")
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / "cache"))  # cold: the chapter trains its model
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        notebook, _ = reference.execute(chapter.path, strict=False)
    finally:
        hog.kill()
        hog.wait()
    printed = "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert "epoch 5/5" in printed
    for line in printed.splitlines():
        if line.startswith(NOTE_PREFIX):
            assert "The text says “" in line, f"a note that does not name its claim: {line}"
