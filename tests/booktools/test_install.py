"""The install line: one version, written into every edition from `lenet_utils.__version__`, tagged once published.

The chapters' own install cell is a template (behind a guard, hidden on the site); the editions
write `%pip install -q "lenet_utils @ git+<repository>@v<version>"` from `_config.yml` and
`lenet_utils/__init__.py` when they are generated. `make colab` runs that line against a tag of a
local bare clone; once the repository has tags, the version of the line must be one of them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from edition_helpers import CHAPTERS, run_booktools

from booktools.chapters import ROOT
from booktools.install import cell_requirement, is_install_cell, package_version, repository_url, requirement

GUARD = 'if importlib.util.find_spec("lenet_utils") is None:'
HIDING_TAGS = {"remove-cell", "remove-input", "hide-input"}  # the site hides the cell; Colab still runs it


def test_the_version_is_defined_once() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^dynamic = \[.*\"version\".*\]$", pyproject, re.MULTILINE), "pyproject.toml: version not dynamic"
    assert not re.search(r"^version = \"", pyproject, re.MULTILINE), "pyproject.toml sets a version of its own"
    assert 'version = { attr = "lenet_utils.__version__" }' in pyproject, "pyproject.toml must read __version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", package_version()), f"version {package_version()!r} is not MAJOR.MINOR.PATCH"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.stem)
def test_chapter_install_cell_is_a_hidden_template(chapter) -> None:
    cells = [cell for cell in nbformat.read(chapter.path, as_version=4).cells if cell.cell_type == "code"]
    cell = cells[0]
    assert GUARD in cell.source, f"{chapter.path.name}: the first code cell should install only when it is missing"
    assert is_install_cell(cell.source), cell.source
    assert cell.source.count("pip install") == 1, cell.source
    assert cell_requirement(cell.source).startswith(f"lenet_utils @ git+{repository_url()}@v")
    assert set(cell.metadata.get("tags", [])) & HIDING_TAGS, f"{chapter.path.name}: hide the install cell on the site"


def test_the_requirement_command_replaces_only_the_address(editions: Path, tmp_path: Path) -> None:
    """What scripts/colab_env.sh installs: the chapter's own line, from a local clone; a path with a space works."""
    notebook = editions / "colab" / f"{CHAPTERS[0].stem}.ipynb"
    clone = (tmp_path / "My Projects" / "lénet.git").as_uri()
    result = run_booktools("requirement", notebook, "--repository", f"{clone}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == requirement(clone) == f"lenet_utils @ git+{clone}@v{package_version()}"
    assert "%20" in clone


def test_a_requirement_pip_refuses_is_caught_before_any_install(editions: Path, tmp_path: Path) -> None:
    notebook = editions / "colab" / f"{CHAPTERS[0].stem}.ipynb"
    result = run_booktools("requirement", notebook, "--repository", f"file://{tmp_path}/My Projects/x")
    assert result.returncode == 1, result.stderr
    assert "is not a requirement pip accepts" in result.stderr, result.stderr


def test_the_install_line_names_a_published_tag() -> None:
    """Once the repository has release tags, the editions' install line must name one of them."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tags = subprocess.run(["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tags:
        pytest.skip("the repository has no tags yet (nothing is published); see CONTRIBUTING.md, Releasing")
    assert f"v{package_version()}" in tags, (
        f"the install line installs v{package_version()}, but the tags are {tags}: tag the release "
        "(CONTRIBUTING.md, Releasing) or set __version__ to the released version"
    )
