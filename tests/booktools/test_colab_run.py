"""Every chapter of the Colab edition runs the way Colab runs it: alone, with lenet_utils as an installed package.

Colab opens one .ipynb with nothing around it: no repository checkout, no book/ folder, no
lenet_utils source tree. Each test copies one notebook of the Colab edition (what the site's Colab
button opens) into an empty temporary folder and executes it there (kernel working directory = that
folder) with a first cell injected that checks the conditions: lenet_utils is imported from
site-packages and no folder of the repository is on sys.path (the virtual environment inside the
checkout excepted). A notebook that reads a file of the repository by a relative path, or imports
from a source tree, fails here. The notes a reader would see (lines that start with NOTE_PREFIX,
printed where this run differs from the text) are counted, and shown with each chapter's run time.

Checkpoints and data come from LENET_CACHE as the environment sets it (`make` points it at the
checkout's .cache, so trained models are reused and this stays fast; scripts/colab_env.sh points it
at an empty folder, so every chapter runs cold); the session-wide temporary cache that conftest.py
installs for the unit tests is deliberately not used.

The kernel is this environment's own, unless LENET_COLAB_ENV names a virtual environment built by
scripts/colab_env.sh (`make colab`): then the kernel is that environment's Python with Colab's packages,
lenet_utils installed there by the chapter's own install line from a tag, and an injected cell checks
its Python and every package version against .ci/colab-pins.txt.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest
from edition_helpers import CHAPTERS
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

from booktools.chapters import ROOT as REPO_ROOT
from lenet_utils.book import NOTE_PREFIX

STEMS = [chapter.stem for chapter in CHAPTERS]
# Read at import time, before conftest.py's session fixture swaps in a temporary cache for the unit tests.
SHARED_CACHE = os.environ.get("LENET_CACHE") or str(REPO_ROOT / ".cache")
TIMEOUT = 1800
COLAB_ENV = os.environ.get("LENET_COLAB_ENV")  # set by scripts/colab_env.sh

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
    """A pytest plugin that shows each notebook's run time in the terminal summary."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.notes: dict[str, list[str]] = {}

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("the Colab edition, each chapter alone in an empty folder")
        terminalreporter.write_line(f"kernel: {COLAB_ENV or sys.executable}")
        terminalreporter.write_line(f"LENET_CACHE={SHARED_CACHE}")
        for name, seconds in self.seconds.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s, {len(self.notes.get(name, []))} notes")
            for note in self.notes.get(name, []):
                terminalreporter.write_line(f"    {note}")
        notes = sum(len(found) for found in self.notes.values())
        terminalreporter.write_line(f"total: {sum(self.seconds.values()):.1f} s, {notes} notes a reader sees")
        record = os.environ.get("LENET_COLAB_TIMES")  # a file for the teaching page's Colab timings
        if record:
            times = {
                stem: {"seconds": round(s, 1), "notes": len(self.notes.get(stem, []))}
                for stem, s in self.seconds.items()
            }
            Path(record).write_text(json.dumps(times, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def run_times(request) -> _RunTimes:
    plugin = _RunTimes()
    request.config.pluginmanager.register(plugin, "colab-edition-run-times")
    return plugin


def notes(notebook: nbformat.NotebookNode) -> list[str]:
    """The notes a reader sees in the executed notebook."""
    return [
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
        for line in output.text.splitlines()
        if line.startswith(NOTE_PREFIX)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_colab_edition_runs_alone(stem, editions, tmp_path, monkeypatch, run_times):
    workdir = tmp_path / "colab"
    workdir.mkdir()
    path = editions / "colab" / f"{stem}.ipynb"
    copy = Path(shutil.copy(path, workdir / path.name))
    notebook = nbformat.read(copy, as_version=4)
    source = CHECK_CELL.replace("REPO, WORKDIR", f"{str(REPO_ROOT)!r}, {str(workdir)!r}")
    notebook.cells.insert(0, nbformat.v4.new_code_cell(source))
    kernel = "python3"
    if COLAB_ENV:  # the kernel of scripts/colab_env.sh's environment, found through its own share/jupyter
        kernel = "colab-python3"
        monkeypatch.setenv("JUPYTER_PATH", str(Path(COLAB_ENV) / "share" / "jupyter"))
        notebook.cells.insert(1, nbformat.v4.new_code_cell(PINS_CELL.replace("PINS", repr(colab_pins()))))

    monkeypatch.setenv("LENET_CACHE", SHARED_CACHE)
    for name in ("PYTHONPATH", "MPLBACKEND"):  # Colab sets neither; MPLBACKEND=Agg would also hide figures
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(workdir)
    executor = ExecutePreprocessor(timeout=TIMEOUT, kernel_name=kernel)
    start = time.perf_counter()
    try:
        executor.preprocess(notebook, {"metadata": {"path": str(workdir)}})
    except CellExecutionError as error:
        pytest.fail(f"{path.name} fails when run alone in an empty folder, as in Colab:\n{error}", pytrace=False)
    finally:
        run_times.seconds[path.name] = time.perf_counter() - start
        run_times.notes[path.name] = notes(notebook)
