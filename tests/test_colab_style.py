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

It also checks that each notebook's setup cell installs lenet_utils from the repository named in
_config.yml, the one address Colab readers get the package from.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "book").glob("*.ipynb"))
# Read at import time, before conftest.py's session fixture swaps in a temporary cache for the unit tests.
SHARED_CACHE = os.environ.get("LENET_CACHE") or str(REPO_ROOT / ".cache")
TIMEOUT = 1800

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


def repository_url() -> str:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/").removesuffix(".git")


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, f"no notebooks in {REPO_ROOT / 'book'}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_setup_cell_installs_from_the_configured_repository(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    setup = code[0]
    assert 'importlib.util.find_spec("lenet_utils") is None' in setup, (
        f"{path.name}: the first code cell should install lenet_utils only when it is missing:\n{setup}"
    )
    urls = re.findall(r"git\+(https?://[^\s\"'@#]+)", setup)
    assert urls, f"{path.name}: the setup cell installs nothing from git:\n{setup}"
    assert {url.rstrip("/").removesuffix(".git") for url in urls} == {repository_url()}, (
        f"{path.name}: the setup cell installs from {urls}, but _config.yml says {repository_url()}"
    )


class _RunTimes:
    """A pytest plugin that shows each notebook's run time in the terminal summary."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("notebooks run alone, Colab style")
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
    check = nbformat.v4.new_code_cell(source)
    notebook.cells.insert(0, check)

    monkeypatch.setenv("LENET_CACHE", SHARED_CACHE)
    for name in ("PYTHONPATH", "MPLBACKEND"):  # Colab sets neither; MPLBACKEND=Agg would also hide figures
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(workdir)
    executor = ExecutePreprocessor(timeout=TIMEOUT, kernel_name="python3")
    start = time.perf_counter()
    try:
        executor.preprocess(notebook, {"metadata": {"path": str(workdir)}})
    except CellExecutionError as error:
        pytest.fail(f"{path.name} fails when run alone in an empty folder, as in Colab:\n{error}", pytrace=False)
    finally:
        run_times[path.name] = time.perf_counter() - start
