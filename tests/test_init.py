"""The package's top level: every public name, loaded on first use (lenet_utils/__init__.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lenet_utils


@pytest.mark.parametrize("name", lenet_utils.__all__)
def test_every_public_name_is_importable_from_the_top_level(name):
    assert getattr(lenet_utils, name) is not None


def test_public_names_are_listed_once_and_sorted():
    names = lenet_utils.__all__[1:]
    assert lenet_utils.__all__[0] == "__version__"
    assert names == sorted(set(names))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'fitt'"):
        lenet_utils.fitt  # noqa: B018


def test_tab_completion_offers_the_names_not_yet_loaded():
    assert set(lenet_utils.__all__) <= set(dir(lenet_utils))


@pytest.mark.slow
def test_importing_the_package_loads_no_submodule_and_not_pytorch():
    code = "import sys, lenet_utils; print([m for m in sys.modules if m == 'torch' or m.startswith('lenet_utils.')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
