"""Where the book keeps its data and checkpoints (lenet_utils.paths)."""

from __future__ import annotations

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
