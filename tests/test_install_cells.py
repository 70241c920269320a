"""Every chapter's install cell installs the release of lenet_utils that the chapter was written with.

In Colab the first code cell runs `%pip install -q "lenet_utils @ git+<repository>@v<version>"`, where
<repository> is the URL in _config.yml and <version> is `lenet_utils.__version__`, the one place the version is
defined (pyproject.toml reads it). A reader who opens a chapter in a year still gets the code it was written
with, once the release tag exists: see "Publishing and releasing" in the README (bump, tag, push).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "book").glob("*.ipynb"))
GUARD = 'if importlib.util.find_spec("lenet_utils") is None:'
INSTALL = re.compile(r'^\s+%pip install -q "lenet_utils @ git\+(?P<url>[^"@]+)@(?P<ref>[^"]+)"$', re.MULTILINE)
# The site hides the cell (Colab still runs it); any of these tags does that.
HIDING_TAGS = {"remove-cell", "remove-input", "hide-input"}


def package_version() -> str:
    """`__version__` as written in lenet_utils/__init__.py, read without importing the package."""
    tree = ast.parse((REPO_ROOT / "lenet_utils" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__version__"]:
            return ast.literal_eval(node.value)
    raise AssertionError("lenet_utils/__init__.py defines no __version__")


def repository_url() -> str:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/").removesuffix(".git")


def test_the_version_is_defined_once():
    # A regular expression rather than tomllib, which Python 3.10 (the oldest the README allows) lacks.
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^dynamic = \[.*\"version\".*\]$", pyproject, re.MULTILINE), "pyproject.toml: version not dynamic"
    assert not re.search(r"^version = \"", pyproject, re.MULTILINE), "pyproject.toml sets a version of its own"
    assert 'version = { attr = "lenet_utils.__version__" }' in pyproject, "pyproject.toml must read __version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", package_version()), f"version {package_version()!r} is not MAJOR.MINOR.PATCH"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_install_cell_pins_this_release(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert cells, f"{path.name} has no code cells"
    cell = cells[0]
    assert GUARD in cell.source, f"{path.name}: the first code cell should install lenet_utils only when it is missing"
    installs = list(INSTALL.finditer(cell.source))
    assert len(installs) == 1 and cell.source.count("pip install") == 1, (
        f'{path.name}: the first code cell should hold one `%pip install -q "lenet_utils @ git+URL@vVERSION"`:\n'
        f"{cell.source}"
    )
    url, ref = installs[0]["url"].rstrip("/").removesuffix(".git"), installs[0]["ref"]
    assert url == repository_url(), (
        f"{path.name}: installs from {url}, but _config.yml's repository is {repository_url()}"
    )
    assert ref == f"v{package_version()}", (
        f"{path.name}: installs {ref}, but lenet_utils is version {package_version()}; "
        f"write @v{package_version()} in its install cell"
    )
    tags = set(cell.metadata.get("tags", []))
    assert tags & HIDING_TAGS, f"{path.name}: tag the install cell with one of {sorted(HIDING_TAGS)} (it is plumbing)"
