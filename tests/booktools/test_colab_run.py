"""Every chapter of the Colab edition runs once, alone, the way Colab runs it; that one run serves every check.

Colab opens one .ipynb with nothing around it: no repository checkout, no book/ folder, no
lenet_utils source tree. Each chapter's Colab edition (what the site's Colab button opens) is copied
into an empty temporary folder and executed there (kernel working directory = that folder) with a
first cell injected that checks the conditions: lenet_utils is imported from site-packages and no
folder of the repository is on sys.path (the virtual environment inside the checkout excepted). A
notebook that reads a file of the repository by a relative path, or imports from a source tree, fails
here. The same run is nbval's check in `--nbval-lax` mode: the cells tagged `nbval-check-output` (shapes,
counts, the model printout) must print what the reference run printed, compared as nbval compares them
(each stream's whole text and every MIME type but images). The notes a reader would see (lines that
start with NOTE_PREFIX, printed where this run differs from the text) are counted, and shown with each
chapter's run time. Solutions are folded in this edition, so they do not run here; the reference run
runs them, and tests/test_committed_notebooks.py holds the chapters to its outputs for the code as it is.

The chapters run in the book's order, so a later chapter loads the models an earlier one trained from
LENET_CACHE as the environment sets it (`make` points it at the checkout's .cache, so a second
`make test` trains nothing; scripts/colab_env.sh points it at an empty folder, so every chapter runs
cold); the session-wide temporary cache that conftest.py installs for the unit tests is deliberately
not used.

The kernel is this environment's own, unless LENET_COLAB_ENV names a virtual environment built by
scripts/colab_env.sh (`make colab`): then the kernel is that environment's Python with Colab's packages,
lenet_utils installed there by the chapter's own install line from a tag, and an injected cell checks
its Python and every package version against .ci/colab-pins.txt.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

from booktools.chapters import ROOT as REPO_ROOT
from booktools.chapters import chapters
from lenet_utils.book import NOTE_PREFIX

STEMS = [chapter.stem for chapter in chapters()]  # in the book's order
# Read at import time, before conftest.py's module fixture swaps in a temporary cache for the unit tests.
SHARED_CACHE = os.environ.get("LENET_CACHE") or str(REPO_ROOT / ".cache")
# LENET_COLAB_ALONE=1: each chapter gets an empty cache of its own, as each Colab notebook is its own machine
# (the teaching page's class-mode times); otherwise the chapters share SHARED_CACHE, in book order.
ALONE = os.environ.get("LENET_COLAB_ALONE") == "1"
TIMEOUT = 1800
COLAB_ENV = os.environ.get("LENET_COLAB_ENV")  # set by scripts/colab_env.sh
CHECKED = "nbval-check-output"
UNCOMPARED = {"image/png", "image/jpeg"}  # nbval compares images only when run with --nbdime

CHECK_CELL = """\
# Injected by tests/booktools/test_colab_run.py: check that this notebook runs the way Colab runs it.
def _check_like_colab(repo, workdir):
    import os, pathlib, sys
    import lenet_utils
    repo, prefix = pathlib.Path(repo).resolve(), pathlib.Path(sys.prefix).resolve()
    package = pathlib.Path(lenet_utils.__file__).resolve()
    assert "site-packages" in package.parts, f"lenet_utils is imported from {package}, not an installed package"
    assert repo / "lenet_utils" not in package.parents, f"lenet_utils is imported from the checkout: {package}"
    for entry in sys.path:
        path = pathlib.Path(entry or os.getcwd()).resolve()
        in_repo = path == repo or repo in path.parents
        in_env = path == prefix or prefix in path.parents
        assert not in_repo or in_env, f"a folder of the repository is on sys.path: {entry!r}"
    assert pathlib.Path.cwd().resolve() == pathlib.Path(workdir).resolve(), f"the kernel runs in {os.getcwd()}"

_check_like_colab(REPO, WORKDIR)
del _check_like_colab
"""


def colab_pins() -> tuple[str, dict[str, str]]:
    """The Python version and the package versions that .ci/colab-pins.txt prescribes."""
    text = (REPO_ROOT / ".ci" / "colab-pins.txt").read_text(encoding="utf-8")
    python = re.search(r"^# python (\S+)$", text, re.MULTILINE).group(1)
    return python, dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, re.MULTILINE))


PINS_CELL = """\
# Injected by tests/booktools/test_colab_run.py: check that the kernel has Colab's Python and packages.
import importlib.metadata as _metadata, platform as _platform
_python, _pins = PINS
assert _platform.python_version().startswith(_python + "."), f"the kernel runs Python {_platform.python_version()}"
_wrong = {name: _metadata.version(name) for name, pinned in _pins.items() if _metadata.version(name) != pinned}
assert not _wrong, f"the kernel's packages differ from .ci/colab-pins.txt: {_wrong}"
del _metadata, _platform, _python, _pins, _wrong
"""


class _RunTimes:
    """A pytest plugin that shows each notebook's run time and notes in the terminal summary."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.notes: dict[str, list[str]] = {}

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("the Colab edition, each chapter alone in an empty folder")
        terminalreporter.write_line(f"kernel: {COLAB_ENV or sys.executable}")
        terminalreporter.write_line("LENET_CACHE: an empty one per chapter" if ALONE else f"LENET_CACHE={SHARED_CACHE}")
        for name, seconds in self.seconds.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s, {len(self.notes[name])} notes")
            for note in self.notes[name]:
                terminalreporter.write_line(f"    {note}")
        notes = sum(len(found) for found in self.notes.values())
        terminalreporter.write_line(f"total: {sum(self.seconds.values()):.1f} s, {notes} notes a reader sees")
        record = os.environ.get("LENET_COLAB_TIMES")  # a file for the teaching page's Colab timings
        if record:
            times = {name: {"seconds": round(s, 1), "notes": len(self.notes[name])} for name, s in self.seconds.items()}
            Path(record).write_text(json.dumps(times, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def run_times(request) -> _RunTimes:
    plugin = _RunTimes()
    request.config.pluginmanager.register(plugin, "colab-edition-run-times")
    return plugin


def notes(cells: list[nbformat.NotebookNode]) -> list[str]:
    """The notes a reader sees in the executed cells."""
    return [
        line
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
        for line in output.text.splitlines()
        if line.startswith(NOTE_PREFIX)
    ]


@dataclass(frozen=True)
class ColabRun:
    """One chapter of the Colab edition as written (with the reference run's outputs) and as this run left it."""

    name: str
    written: nbformat.NotebookNode
    ran: list[nbformat.NotebookNode]  # the edition's cells after the run, the injected ones left out
    failure: str | None  # which cell failed, and its error; None when the notebook ran to the end


def failing_cell(cells: list[nbformat.NotebookNode]) -> int | None:
    """The index of the first cell whose outputs hold an error."""
    errors = (i for i, cell in enumerate(cells) if any(o.output_type == "error" for o in cell.get("outputs", [])))
    return next(errors, None)


@pytest.fixture(scope="module", params=STEMS)
def colab_run(request, editions: Path, tmp_path_factory: pytest.TempPathFactory, run_times: _RunTimes) -> ColabRun:
    """Run one chapter of the Colab edition alone in an empty folder: once, for every test of that chapter."""
    workdir = tmp_path_factory.mktemp(f"colab-{request.param}")
    path = Path(shutil.copy(editions / "colab" / f"{request.param}.ipynb", workdir))
    written = nbformat.read(path, as_version=4)
    notebook = copy.deepcopy(written)
    for cell in notebook.cells:  # a cell the run never reached shows nothing, not the reference run's output
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    injected = [CHECK_CELL.replace("REPO, WORKDIR", f"{str(REPO_ROOT)!r}, {str(workdir)!r}")]
    if COLAB_ENV:
        injected.append(PINS_CELL.replace("PINS", repr(colab_pins())))
    notebook.cells[:0] = [nbformat.v4.new_code_cell(source) for source in injected]
    failure = None
    with pytest.MonkeyPatch.context() as patch:
        if COLAB_ENV:  # the kernel of scripts/colab_env.sh's environment, found through its own share/jupyter
            patch.setenv("JUPYTER_PATH", str(Path(COLAB_ENV) / "share" / "jupyter"))
        patch.setenv("LENET_CACHE", str(tmp_path_factory.mktemp(f"cache-{request.param}")) if ALONE else SHARED_CACHE)
        for name in ("PYTHONPATH", "MPLBACKEND"):  # Colab sets neither; MPLBACKEND=Agg would also hide figures
            patch.delenv(name, raising=False)
        patch.chdir(workdir)
        executor = ExecutePreprocessor(timeout=TIMEOUT, kernel_name="colab-python3" if COLAB_ENV else "python3")
        start = time.perf_counter()
        try:
            executor.preprocess(notebook, {"metadata": {"path": str(workdir)}})
        except CellExecutionError as error:
            index = failing_cell(notebook.cells[len(injected) :])
            where = "an injected check" if index is None else f"cell {index} (from 0)"
            failure = f"{path.name} fails at {where} when run alone in an empty folder, as in Colab:\n{error}"
        seconds = time.perf_counter() - start
    ran = notebook.cells[len(injected) :]
    run_times.seconds[path.name], run_times.notes[path.name] = seconds, notes(ran)
    return ColabRun(path.name, written, ran, failure)


@pytest.mark.slow
def test_each_chapter_runs_to_the_end_alone_in_an_empty_folder(colab_run: ColabRun) -> None:
    if colab_run.failure:
        pytest.fail(colab_run.failure, pytrace=False)


def compared(outputs: list[nbformat.NotebookNode]) -> list[str]:
    """What nbval's lax mode compares of a checked cell, as lines: each stream's whole text, each MIME type's values."""
    streams: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for output in outputs:
        if output.output_type == "stream":
            streams[output.name] = streams.get(output.name, "") + output.text  # a stream's writes, joined
        for mime, value in output.get("data", {}).items():
            if mime not in UNCOMPARED:
                values.setdefault(mime, []).append(value if isinstance(value, str) else json.dumps(value))
    values |= {name: [text] for name, text in streams.items()}
    return [f"{key}: {line}" for key in sorted(values) for value in values[key] for line in value.splitlines()]


@pytest.mark.slow
@pytest.mark.skipif(bool(COLAB_ENV), reason="the reference run's outputs come from this environment's packages")
def test_each_checked_cell_prints_what_the_reference_run_printed(colab_run: ColabRun) -> None:
    differences = []
    for index, (written, ran) in enumerate(zip(colab_run.written.cells, colab_run.ran, strict=True)):
        if CHECKED in written.metadata.get("tags", []) and ran.execution_count is not None:
            expected, got = compared(written.outputs), compared(ran.outputs)
            if expected != got:
                diff = difflib.unified_diff(expected, got, "the reference run", "this run", lineterm="", n=1)
                first = written.source.splitlines()[0]
                differences.append(f"cell {index} (from 0), which starts {first!r}:\n" + "\n".join(diff))
    if differences:
        message = f"{colab_run.name}: cells tagged {CHECKED} print otherwise:\n" + "\n\n".join(differences)
        pytest.fail(message, pytrace=False)
