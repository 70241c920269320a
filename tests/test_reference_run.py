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
# A chapter's training in miniature: a LeNet-5 trained for two epochs on noise, through the cache as chapters do.
TINY_TRAINING = """\
import torch
from torch.utils.data import TensorDataset
from lenet_utils import DataSplits, TrainConfig, train_or_load

def noise(n):
    generator = torch.Generator().manual_seed(n)
    images = torch.randn(n, 1, 28, 28, generator=generator)
    return TensorDataset(images, torch.randint(0, 10, (n,), generator=generator))

data = DataSplits(noise(200), noise(100), noise(100), mean=0.0, std=1.0, split_seed=0)
run = train_or_load(TrainConfig(epochs=2, batch_size=50), data)"""


def chapter_with(tmp_path: Path, *sources: str) -> Path:
    """A notebook of one code cell per source."""
    path = tmp_path / "chapter.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(notebook, path)
    return path


def printed(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed."""
    return "".join(output.get("text", "") for output in cell.outputs)


def test_the_reference_run_fails_on_a_claim_that_does_not_hold(tmp_path, monkeypatch):
    monkeypatch.delenv("LENET_REFERENCE_RUN", raising=False)
    with pytest.raises(CellExecutionError, match="one is more than two"):
        reference.execute(chapter_with(tmp_path, FALSE_CLAIM), strict=True)


def test_a_readers_run_beside_a_cpu_hog_on_one_thread_trains_names_the_claim_and_runs_to_the_end(tmp_path, monkeypatch):
    """A reader's run on a busy machine (one thread, a busy-loop beside it) trains, notes, and never crashes."""
    monkeypatch.delenv("LENET_REFERENCE_RUN", raising=False)
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / "cache"))  # cold: the notebook trains its model
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    chapter = chapter_with(tmp_path, TINY_TRAINING, FALSE_CLAIM, 'print("the end")')
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        notebook, _ = reference.execute(chapter, strict=False)
    finally:
        hog.kill()
        hog.wait()
    training, claim, end = map(printed, notebook.cells)
    assert "epoch 2/2" in training
    assert claim.startswith(NOTE_PREFIX)
    assert "“one is more than two”" in claim
    assert "1 <= 2" in claim
    assert end == "the end\n"


def test_prose_leaves_the_code_digest_as_it_is(tmp_path):
    """Only code changes what a chapter printed (tests/booktools/test_reference.py: the package and code cells do)."""
    notebook = nbformat.read(chapter_with(tmp_path, "x = 1"), as_version=4)
    before = reference.code_digest(notebook)
    notebook.cells.append(nbformat.v4.new_markdown_cell("prose does not change what the code printed"))
    assert reference.code_digest(notebook) == before
