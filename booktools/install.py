"""The install line of the editions, written from `lenet_utils.__version__` and the repository of `_config.yml`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .chapters import ROOT
from .myst import load_yaml

# The requirement inside a chapter's install cell, e.g. "lenet_utils @ git+https://github.com/o/r@v0.2.0".
REQUIREMENT = re.compile(r'"(lenet_utils @ [^"]*)"')


def package_version(root: Path = ROOT) -> str:
    """`__version__` as lenet_utils/__init__.py defines it, read without importing torch."""
    tree = ast.parse((root / "lenet_utils" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == ["__version__"]:
            return ast.literal_eval(node.value)
    raise LookupError(f"{root / 'lenet_utils' / '__init__.py'} defines no __version__")


def repository_url(root: Path = ROOT) -> str:
    """The book's repository as `_config.yml` names it, without a trailing `.git` or slash."""
    return str(load_yaml(root / "_config.yml")["repository"]["url"]).rstrip("/").removesuffix(".git")


def requirement(repository: str | None = None) -> str:
    """The pip requirement of this release: the tag v<version> of the book's repository (or of `repository`)."""
    return f"lenet_utils @ git+{repository or repository_url()}@v{package_version()}"


def is_install_cell(source: str) -> bool:
    """Whether a code cell installs lenet_utils with pip (the chapters' first code cell)."""
    return "%pip install" in source and REQUIREMENT.search(source) is not None


def rewrite_install(source: str) -> str:
    """The install cell with its requirement written for this release, whatever version the template names."""
    return REQUIREMENT.sub(lambda _: f'"{requirement()}"', source)


def cell_requirement(source: str) -> str:
    """The requirement that an install cell passes to pip."""
    found = REQUIREMENT.search(source)
    if found is None:
        raise LookupError("the cell installs no lenet_utils requirement")
    return found[1]
