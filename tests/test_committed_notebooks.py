"""The notebooks as committed: what GitHub and Colab show before anyone runs them."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import nbformat
import pytest

from booktools.chapters import chapters
from booktools.reference import METADATA_KEY, code_digest
from lenet_utils.book import NOTE_PREFIX

NOTEBOOKS = [chapter.path for chapter in chapters()]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Absolute paths of the machine that ran the notebooks: home folders, checkouts, temporary folders.
MACHINE_PATH = re.compile(r"(/root/|/home/\w|/work/|/tmp/|/Users/\w|[A-Z]:\\\\|site-packages)")
EPOCH_SECONDS = re.compile(r"^epoch \d+/\d+ \|.*\| ([\d.]+) s$", re.MULTILINE)
COLOUR_LITERAL = re.compile(r"#[0-9a-fA-F]{6}\b|\b(?:color|colour|c)\s*=\s*[\"'](?!none)\w+[\"']")


def output_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as plain text."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, nbformat.read(request.param, as_version=4)


def test_no_execution_timestamps(notebook):
    path, nb = notebook
    stamped = [i for i, cell in enumerate(nb.cells) if "execution" in cell.metadata]
    assert not stamped, f"{path.name}: cells {stamped} carry execution timestamps; run `make notebooks`"


def test_one_kernelspec(notebook):
    path, nb = notebook
    assert nb.metadata.get("kernelspec") == KERNELSPEC, f"{path.name}: kernelspec {nb.metadata.get('kernelspec')}"


def test_no_machine_paths_in_outputs(notebook):
    path, nb = notebook
    leaks = [(i, m.group(0)) for i, c in enumerate(nb.cells) for m in MACHINE_PATH.finditer(output_text(c))]
    assert not leaks, f"{path.name}: outputs show paths of the machine that ran them: {leaks[:5]}"


def test_no_colour_literal_in_code(notebook):
    path, nb = notebook
    literals = [
        (i, m.group(0))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for m in COLOUR_LITERAL.finditer(c.source)
    ]
    assert not literals, f"{path.name}: use lenet_utils.plots.PALETTE instead of colour literals: {literals}"


def training_logs(nb: nbformat.NotebookNode) -> list[list[float]]:
    """Seconds per epoch of every training log in the outputs; a log starts at "epoch 1/"."""
    logs: list[list[float]] = []
    for cell in nb.cells:
        for match in EPOCH_SECONDS.finditer(output_text(cell)):
            if match.group(0).startswith("epoch 1/") or not logs:
                logs.append([])
            logs[-1].append(float(match.group(1)))
    return logs


def test_epochs_come_from_a_quiet_run(notebook):
    """A busy machine shows as epochs far slower than the rest of their training run."""
    path, nb = notebook
    for seconds in training_logs(nb):
        median = statistics.median(seconds)
        slow = [s for s in seconds if s > 2.5 * median]
        assert not slow, f"{path.name}: epochs of {slow} s in a run whose median is {median:.1f} s; rerun alone"


def test_outputs_come_from_the_reference_run_of_this_code(notebook):
    """The site shows the committed outputs, so they must be the reference run's, for the code as it is now."""
    path, nb = notebook
    stamp = nb.metadata.get(METADATA_KEY)
    assert stamp, f"{path.name}: its outputs were not written by the reference run; run `make notebooks`"
    assert stamp["code"] == code_digest(nb), (
        f"{path.name}: the package or the chapter's code changed since its outputs were made; run `make notebooks`"
    )


def test_outputs_hold_no_error_and_no_note(notebook):
    """A traceback or a reader's-run note must never reach the site."""
    path, nb = notebook
    errors = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    notes = [i for i, c in enumerate(nb.cells) if NOTE_PREFIX in output_text(c)]
    assert not errors, f"{path.name}: cells {errors} hold an error; fix them and run `make notebooks`"
    assert not notes, f"{path.name}: cells {notes} hold a note of a reader's run; run `make notebooks`"
