"""Finding the Fashion-MNIST files (lenet_utils.locate)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import lenet_utils.idx as idx_module
import lenet_utils.locate as locate_module
from lenet_utils import DataUnavailableError, find_data_dir

# --------------------------------------------------------------------------- find_data_dir


def test_find_data_dir_uses_an_explicit_folder(idx_dir):
    assert find_data_dir(idx_dir) == idx_dir


def test_find_data_dir_uses_the_environment_variable(idx_dir, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(idx_dir))
    assert find_data_dir() == idx_dir


def test_find_data_dir_prefers_the_argument_to_the_environment_variable(idx_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "elsewhere"))
    assert find_data_dir(idx_dir) == idx_dir


def test_find_data_dir_refuses_an_explicit_folder_without_the_files(tmp_path, explains_how_to_get_data):
    with pytest.raises(DataUnavailableError) as excinfo:
        find_data_dir(tmp_path)
    message = str(excinfo.value)
    assert message.startswith(
        f"{tmp_path} lacks train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte (plain or .gz); name a folder holding the four IDX files (data_dir, --data-dir or "
        "FASHION_MNIST_DIR)"
    )
    assert explains_how_to_get_data(message)


def test_find_data_dir_names_the_one_missing_file(idx_dir):
    next(idx_dir.glob("t10k-labels*")).unlink()
    with pytest.raises(DataUnavailableError, match=r"lacks t10k-labels-idx1-ubyte \(plain or \.gz\); name a folder"):
        find_data_dir(idx_dir)


@pytest.mark.parametrize("what", ["a file", "nothing"])
def test_find_data_dir_refuses_a_data_dir_that_is_not_a_folder(tmp_path, what):
    path = tmp_path / "data"
    if what == "a file":
        path.write_text("")
    with pytest.raises(DataUnavailableError, match=f"^{path} is not a folder; name a folder"):
        find_data_dir(path)


def test_a_folder_named_by_the_environment_variable_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataUnavailableError, match=f"^{tmp_path / 'nowhere'} \\(named by FASHION_MNIST_DIR\\) is not"):
        find_data_dir()


@pytest.mark.parametrize("where", ["cache is a file", "a parent is a file"])
def test_an_unusable_cache_offline_is_named_and_no_download_is_tried(offline, tmp_path, monkeypatch, where):
    (tmp_path / "file").write_text("")
    cache = tmp_path / "file" if where == "cache is a file" else tmp_path / "file" / "below"
    monkeypatch.setenv("LENET_CACHE", str(cache))
    with pytest.raises(DataUnavailableError) as excinfo:
        find_data_dir()
    assert str(excinfo.value) == (
        f"Fashion-MNIST is not on this machine and cannot be downloaded into {cache / 'data'} (Not a directory); "
        "set LENET_CACHE to a writable folder, or name a folder holding the four IDX files (data_dir, --data-dir "
        "or FASHION_MNIST_DIR), install Debian's package dataset-fashion-mnist."
    )
    assert offline == []


def test_the_readme_describes_the_data_errors_as_they_are():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert idx_module.REPLACE in readme  # what a damaged file's error says to do
    assert "missing" in readme
    assert "FASHION_MNIST_DIR" in readme


def test_find_data_dir_finds_the_debian_package(offline, idx_dir, monkeypatch):
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == idx_dir
    assert offline == []  # no download attempted


def test_find_data_dir_prefers_the_torchvision_cache_to_debian(offline, idx_dir, monkeypatch):
    raw = locate_module.torchvision_root() / "FashionMNIST" / "raw"
    shutil.copytree(idx_dir, raw)
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == raw


def test_find_data_dir_offline_tries_to_download_then_explains(offline, explains_how_to_get_data):
    with pytest.raises(DataUnavailableError, match="could not be downloaded") as excinfo:
        find_data_dir()
    assert explains_how_to_get_data(str(excinfo.value))
    assert "URLError" in str(excinfo.value)
    assert offline
    assert offline[0]["download"] is True
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


def test_find_data_dir_without_download_does_not_try(offline, explains_how_to_get_data):
    with pytest.raises(DataUnavailableError, match="not on this machine") as excinfo:
        find_data_dir(download=False)
    assert explains_how_to_get_data(str(excinfo.value))
    assert offline == []


@pytest.mark.real_data
def test_real_data_is_found_without_configuration():
    directory = find_data_dir(download=False)
    names = sorted(os.listdir(directory))
    assert any(name.startswith("train-images-idx3-ubyte") for name in names)


# --------------------------------------------------------------------------- places that cannot be looked into

LONG_NAME = "x" * 300  # longer than the 255 bytes a file name may have on Linux and macOS


def test_an_empty_data_dir_is_an_error_not_a_silent_default(offline, idx_dir, monkeypatch):
    """`--data-dir ''` used data found elsewhere without a word (issue 16)."""
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)
    with pytest.raises(DataUnavailableError, match=r"^the data folder's name is empty; name a folder holding"):
        find_data_dir("")


def test_an_empty_fashion_mnist_dir_counts_as_unset(offline, idx_dir, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", "")
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == idx_dir


def test_a_data_dir_with_a_name_too_long_is_one_sentence(tmp_path):
    path = tmp_path / LONG_NAME
    with pytest.raises(DataUnavailableError) as excinfo:
        find_data_dir(path)
    assert str(excinfo.value).startswith(f"{path} cannot be looked into (File name too long); name a folder")


def test_a_fashion_mnist_dir_that_cannot_be_looked_into_is_not_skipped(offline, idx_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / LONG_NAME))
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)  # data elsewhere must not hide the bad setting
    with pytest.raises(DataUnavailableError, match=r"\(named by FASHION_MNIST_DIR\) cannot be looked into \(File"):
        find_data_dir()


def test_a_data_dir_below_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(DataUnavailableError, match=r"/file/below is not a folder; name a folder"):
        find_data_dir(tmp_path / "file" / "below")


def test_a_cache_with_a_name_too_long_is_skipped_for_the_debian_copy(offline, idx_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / LONG_NAME))
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == idx_dir


def test_a_cache_with_a_name_too_long_and_no_data_is_one_sentence(offline, tmp_path, monkeypatch):
    cache = tmp_path / LONG_NAME
    monkeypatch.setenv("LENET_CACHE", str(cache))
    with pytest.raises(DataUnavailableError) as excinfo:
        find_data_dir()
    message = str(excinfo.value)
    assert message.startswith(
        f"Fashion-MNIST is not on this machine (skipped: {cache / 'data' / 'FashionMNIST' / 'raw'} (File name too "
        f"long)) and cannot be downloaded into {cache / 'data'} (File name too long); set LENET_CACHE"
    )
    assert offline == []


def test_a_data_file_that_is_a_folder_is_named(tmp_path, idx_dir):
    next(idx_dir.glob("t10k-labels*")).unlink()
    (idx_dir / "t10k-labels-idx1-ubyte").mkdir()
    with pytest.raises(DataUnavailableError, match=r"cannot be looked into \(t10k-labels-idx1-ubyte is a folder\)"):
        find_data_dir(idx_dir)


@pytest.mark.parametrize("home", ["unset", "empty"])
def test_no_home_folder_skips_the_cache_and_says_so(offline, idx_dir, monkeypatch, home):
    """An account made only for a container (docker run --user 1234) has no HOME and no password entry."""
    monkeypatch.delenv("LENET_CACHE")
    if home == "unset":
        monkeypatch.delenv("HOME", raising=False)
        monkeypatch.setattr(os, "getuid", lambda: 2**31 - 7)  # an account the password database does not know
    else:
        monkeypatch.setenv("HOME", "")
    with pytest.raises(DataUnavailableError) as excinfo:
        find_data_dir()
    assert str(excinfo.value).startswith(
        "Fashion-MNIST is not on this machine (skipped: the download cache (no home folder is known to keep the "
        "cache in (HOME is empty or unset); set LENET_CACHE)); name a folder holding the four IDX files"
    )
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == idx_dir


def test_a_data_dir_under_an_unknown_home_is_one_sentence(monkeypatch):
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(os, "getuid", lambda: 2**31 - 7)  # an account the password database does not know
    with pytest.raises(DataUnavailableError) as excinfo:
        find_data_dir("~/fashion")
    assert str(excinfo.value) == (
        "~/fashion starts with ~ but no home folder is known (HOME is unset); give the folder's full path."
    )
