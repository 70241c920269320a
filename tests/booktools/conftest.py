"""Fixtures of the tests of booktools (helpers: edition_helpers.py, a name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path

import pytest
from edition_helpers import run_booktools


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds a site or runs notebooks (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def editions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every edition of the real book: Colab and student as `make book` writes them, the key as `make key`."""
    target = tmp_path_factory.mktemp("editions") / "editions"
    result = run_booktools("editions", target)
    assert result.returncode == 0, result.stderr
    return target
