"""Where the book keeps its data and checkpoints (lenet_utils.paths)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lenet_utils.paths import cache_dir


def test_cache_dir_follows_the_environment_variable(cache):
    assert cache_dir() == cache


def test_cache_dir_expands_a_leading_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LENET_CACHE", "~/lenet")
    assert cache_dir() == tmp_path / "lenet"


def test_cache_dir_defaults_to_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LENET_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "lenet_utils"


def test_a_relative_cache_is_resolved_once_against_the_first_reader_and_handed_to_its_children(monkeypatch, tmp_path):
    """A kernel runs in its chapter's folder: it gets the folder the command was typed in, not one of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENET_CACHE", "class-cache")
    assert cache_dir() == tmp_path / "class-cache"
    assert os.environ["LENET_CACHE"] == str(tmp_path / "class-cache")
    (tmp_path / "book").mkdir()
    child = "from lenet_utils.paths import cache_dir; print(cache_dir())"
    found = subprocess.run([sys.executable, "-c", child], cwd=tmp_path / "book", capture_output=True, text=True)
    assert Path(found.stdout.strip()) == tmp_path / "class-cache", found.stderr


def test_a_relative_cache_in_a_deleted_working_folder_is_one_sentence(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = "import os; os.rmdir(os.getcwd()); from lenet_utils.paths import cache_dir; cache_dir()"
    env = {**os.environ, "LENET_CACHE": "class-cache", "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", code], cwd=gone, capture_output=True, text=True, env=env)
    assert "CacheError: LENET_CACHE is relative, but the working folder is gone; make it absolute." in result.stderr
