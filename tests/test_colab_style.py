"""Every chapter notebook runs the way Colab runs it: alone, with lenet_utils as an installed package.

Colab opens one .ipynb with nothing around it: no repository checkout, no book/ folder, no
lenet_utils source tree. Each test copies one notebook into an empty temporary folder and executes
it there (kernel working directory = that folder) with a first cell injected that checks the
conditions: lenet_utils is imported from site-packages (the venv installs it non-editable) and no
folder of the repository is on sys.path (the virtual environment inside the checkout excepted). A
notebook that reads a file of the repository by a relative path, or imports from a source tree,
fails here.

Checkpoints and data come from LENET_CACHE as the environment sets it (`make` points it at the
checkout's .cache, so trained models are reused and this stays fast); the session-wide temporary
cache that conftest.py installs for the unit tests is deliberately not used. Set LENET_CACHE to an
empty folder to time the notebooks from scratch. Each notebook's run time is printed at the end.

The kernel is this environment's own, unless LENET_COLAB_ENV names a virtual environment built by
scripts/colab_env.sh (`make colab`): then the kernel is that environment's Python with Colab's packages,
and an injected cell checks its Python and every package version against .ci/colab-pins.txt.
(tests/test_install_cells.py checks what the install cell installs.)
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "book").glob("*.ipynb"))
# Read at import time, before conftest.py's session fixture swaps in a temporary cache for the unit tests.
SHARED_CACHE = os.environ.get("LENET_CACHE") or str(REPO_ROOT / ".cache")
TIMEOUT = 1800
COLAB_ENV = os.environ.get("LENET_COLAB_ENV")  # set by scripts/colab_env.sh

CHECK_CELL = """\
# Injected by tests/test_colab_style.py: check that this notebook runs the way Colab runs it.
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


def notebook_id(path: Path) -> str:
    return path.stem


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, f"no notebooks in {REPO_ROOT / 'book'}"


def colab_pins() -> tuple[str, dict[str, str]]:
    """The Python version and the package versions that .ci/colab-pins.txt prescribes."""
    text = (REPO_ROOT / ".ci" / "colab-pins.txt").read_text(encoding="utf-8")
    python = re.search(r"^# python (\S+)$", text, re.MULTILINE).group(1)
    return python, dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, re.MULTILINE))


PINS_CELL = """\
# Injected by tests/test_colab_style.py: check that the kernel has Colab's Python and packages.
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

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("notebooks run alone, Colab style")
        terminalreporter.write_line(f"kernel: {COLAB_ENV or sys.executable}")
        terminalreporter.write_line(f"LENET_CACHE={SHARED_CACHE}")
        for name, seconds in self.seconds.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
        terminalreporter.write_line(f"total: {sum(self.seconds.values()):.1f} s")


@pytest.fixture(scope="module")
def run_times(request) -> dict[str, float]:
    plugin = _RunTimes()
    request.config.pluginmanager.register(plugin, "colab-style-run-times")
    return plugin.seconds


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_alone_like_colab(path, tmp_path, monkeypatch, run_times):
    workdir = tmp_path / "colab"
    workdir.mkdir()
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
        run_times[path.name] = time.perf_counter() - start
