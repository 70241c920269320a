"""Finding, reading, validating, splitting and serving Fashion-MNIST (lenet_utils.data)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.data as data_module
from lenet_utils import (
    CLASS_NAMES,
    CorruptDataError,
    DataUnavailableError,
    find_data_dir,
    load_fashion_mnist,
    load_split,
    make_loader,
    pixel_stats,
)
from lenet_utils.data import DEFAULT_VAL_SIZE, normalize, read_idx, train_val_indices

# --------------------------------------------------------------------------- read_idx: good files


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_returns_the_images_it_was_given(tmp_path, write_idx, make_images, suffix):
    images, _ = make_images(5)
    path = write_idx(tmp_path / f"images{suffix}", images)
    result = read_idx(path)
    assert result.dtype == np.uint8
    assert result.shape == (5, 28, 28)
    np.testing.assert_array_equal(result, images)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_returns_the_labels_it_was_given(tmp_path, write_idx, suffix):
    labels = np.array([9, 0, 3, 3, 7], dtype=np.uint8)
    result = read_idx(write_idx(tmp_path / f"labels{suffix}", labels), expected_count=5)
    np.testing.assert_array_equal(result, labels)


def test_read_idx_accepts_an_empty_label_file(tmp_path, write_idx):
    result = read_idx(write_idx(tmp_path / "labels", np.zeros(0, dtype=np.uint8)))
    assert result.shape == (0,)


# --------------------------------------------------------------------------- read_idx: bad files


def test_read_idx_rejects_a_truncated_file(tmp_path, write_idx, make_images):
    path = write_idx(tmp_path / "images", make_images(3)[0])
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptDataError) as excinfo:
        read_idx(path)
    assert str(excinfo.value) == (
        f"{path} has 2268 bytes where its header promises 2368; it is truncated, replace it with a fresh copy."
    )


def test_read_idx_rejects_trailing_bytes(tmp_path, write_idx, make_images):
    path = write_idx(tmp_path / "images", make_images(3)[0])
    path.write_bytes(path.read_bytes() + b"\0" * 28)
    with pytest.raises(CorruptDataError, match="header promises 2368; extra bytes follow the data") as excinfo:
        read_idx(path)
    assert "truncated" not in str(excinfo.value)


def test_read_idx_rejects_a_truncated_gz_file(tmp_path, write_idx, make_images):
    path = write_idx(tmp_path / "images.gz", make_images(50)[0])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptDataError, match="damaged"):
        read_idx(path)


def test_read_idx_rejects_a_gz_file_that_is_not_gzip(tmp_path, write_idx, make_images):
    path = write_idx(tmp_path / "images", make_images(2)[0])
    path = path.rename(tmp_path / "images.gz")  # plain IDX bytes under a .gz name
    with pytest.raises(CorruptDataError, match="damaged"):
        read_idx(path)


def test_read_idx_rejects_a_file_shorter_than_a_header(tmp_path):
    path = tmp_path / "stub"
    path.write_bytes(b"\0\0\x08")
    with pytest.raises(CorruptDataError, match="too short"):
        read_idx(path)


def test_read_idx_rejects_a_truncated_image_header(tmp_path, write_idx, make_images):
    path = write_idx(tmp_path / "images", make_images(1)[0])
    path.write_bytes(path.read_bytes()[:12])
    with pytest.raises(CorruptDataError, match="truncated header"):
        read_idx(path)


def test_read_idx_rejects_a_wrong_magic_number(tmp_path, write_idx):
    path = write_idx(tmp_path / "labels", np.arange(10), magic=1234)
    with pytest.raises(CorruptDataError, match="magic number 1234"):
        read_idx(path)


def test_read_idx_rejects_a_count_other_than_expected(tmp_path, write_idx):
    path = write_idx(tmp_path / "labels", np.arange(10))
    with pytest.raises(CorruptDataError, match="holds 10 items, expected 60000"):
        read_idx(path, expected_count=60_000)


def test_read_idx_rejects_a_header_count_that_disagrees_with_the_data(tmp_path, write_idx):
    path = write_idx(tmp_path / "labels", np.arange(10), count=11)
    with pytest.raises(CorruptDataError, match="truncated"):
        read_idx(path)


def test_read_idx_rejects_labels_above_nine(tmp_path, write_idx):
    path = write_idx(tmp_path / "labels", np.array([0, 9, 10, 2]))
    with pytest.raises(CorruptDataError, match="label 10"):
        read_idx(path)


def test_read_idx_rejects_images_that_are_not_28_by_28(tmp_path, write_idx):
    path = write_idx(tmp_path / "images", np.zeros((2, 32, 32), dtype=np.uint8))
    with pytest.raises(CorruptDataError, match="32x32"):
        read_idx(path)


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
        "t10k-labels-idx1-ubyte (plain or .gz); pass data_dir= (or set FASHION_MNIST_DIR)"
    )
    assert explains_how_to_get_data(message)


def test_find_data_dir_names_the_one_missing_file(idx_dir):
    next(idx_dir.glob("t10k-labels*")).unlink()
    with pytest.raises(DataUnavailableError, match=r"lacks t10k-labels-idx1-ubyte \(plain or \.gz\); pass"):
        find_data_dir(idx_dir)


@pytest.mark.parametrize("what", ["a file", "nothing"])
def test_find_data_dir_refuses_a_data_dir_that_is_not_a_folder(tmp_path, what):
    path = tmp_path / "data"
    if what == "a file":
        path.write_text("")
    with pytest.raises(DataUnavailableError, match=f"^{path} is not a folder; pass data_dir="):
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
        "set LENET_CACHE to a writable folder, or pass data_dir= (or set FASHION_MNIST_DIR) to a folder holding "
        "the four IDX files, install Debian's package dataset-fashion-mnist."
    )
    assert offline == []


def test_the_readme_describes_the_data_errors_as_they_are():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert data_module.REPLACE in readme  # what a damaged file's error says to do
    assert "missing" in readme and "FASHION_MNIST_DIR" in readme


def test_find_data_dir_finds_the_debian_package(offline, idx_dir, monkeypatch):
    monkeypatch.setattr(data_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == idx_dir
    assert offline == []  # no download attempted


def test_find_data_dir_prefers_the_torchvision_cache_to_debian(offline, idx_dir, monkeypatch):
    raw = data_module.torchvision_root() / "FashionMNIST" / "raw"
    shutil.copytree(idx_dir, raw)
    monkeypatch.setattr(data_module, "DEBIAN_DIR", idx_dir)
    assert find_data_dir() == raw


def test_find_data_dir_offline_tries_to_download_then_explains(offline, explains_how_to_get_data):
    with pytest.raises(DataUnavailableError, match="could not be downloaded") as excinfo:
        find_data_dir()
    assert explains_how_to_get_data(str(excinfo.value))
    assert "URLError" in str(excinfo.value)
    assert offline and offline[0]["download"] is True
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_find_data_dir_without_download_does_not_try(offline, explains_how_to_get_data):
    with pytest.raises(DataUnavailableError, match="not on this machine") as excinfo:
        find_data_dir(download=False)
    assert explains_how_to_get_data(str(excinfo.value))
    assert offline == []


# --------------------------------------------------------------------------- load_split


def test_load_split_returns_uint8_images_and_int64_labels(idx_dir, tiny_split_sizes, make_images):
    images, labels = load_split("test", idx_dir)
    expected_images, expected_labels = make_images(tiny_split_sizes["test"], seed=1)
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert images.shape == (tiny_split_sizes["test"], 28, 28)
    assert torch.equal(images, torch.from_numpy(expected_images))
    assert torch.equal(labels, torch.from_numpy(expected_labels).long())


def test_load_split_rejects_an_unknown_split(idx_dir):
    with pytest.raises(ValueError, match="'validation'"):
        load_split("validation", idx_dir)


def test_load_split_rejects_swapped_image_and_label_files(idx_dir):
    images, labels = sorted(idx_dir.glob("t10k-*"))  # t10k-images..., t10k-labels...
    images.rename(idx_dir / "swap")
    labels.rename(images)
    (idx_dir / "swap").rename(labels)
    with pytest.raises(CorruptDataError):
        load_split("test", idx_dir)


def test_load_split_rejects_a_split_of_the_wrong_size(idx_dir, monkeypatch):
    monkeypatch.setitem(data_module.SPLIT_SIZES, "test", 10_000)
    with pytest.raises(CorruptDataError, match="expected 10000"):
        load_split("test", idx_dir)


def test_load_split_reports_missing_data_offline(offline):
    with pytest.raises(DataUnavailableError):
        load_split("train")


# --------------------------------------------------------------------------- load_fashion_mnist


def test_load_fashion_mnist_holds_out_a_validation_split(idx_dir):
    data = load_fashion_mnist(data_dir=idx_dir, val_size=10)
    assert [len(data.train), len(data.val), len(data.test)] == [50, 10, 20]
    for images, labels in (data.train.tensors, data.val.tensors, data.test.tensors):
        assert images.dtype == torch.float32 and images.shape[1:] == (1, 28, 28)
        assert labels.dtype == torch.int64


def test_load_fashion_mnist_normalizes_with_training_statistics(idx_dir):
    data = load_fashion_mnist(data_dir=idx_dir, val_size=10)
    raw_images, _ = load_split("train", idx_dir)
    train_idx, _ = train_val_indices(60, 10)
    assert (data.mean, data.std) == pixel_stats(raw_images[train_idx])
    train_images = data.train.tensors[0]
    assert train_images.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert train_images.std().item() == pytest.approx(1.0, abs=1e-4)


def test_load_fashion_mnist_records_its_split(idx_dir):
    data = load_fashion_mnist(data_dir=idx_dir, val_size=10, seed=7)
    assert data.split_seed == 7
    assert data.fingerprint() == {"train": 50, "val": 10, "split_seed": 7}


def test_load_fashion_mnist_validation_images_come_from_the_seeded_split(idx_dir):
    data = load_fashion_mnist(data_dir=idx_dir, val_size=10, seed=7)
    raw_images, raw_labels = load_split("train", idx_dir)
    _, val_idx = train_val_indices(60, 10, seed=7)
    assert torch.equal(data.val.tensors[1], raw_labels[val_idx])
    assert torch.equal(data.val.tensors[0], normalize(raw_images[val_idx], data.mean, data.std))


def test_load_fashion_mnist_reports_missing_data_offline(offline, explains_how_to_get_data):
    with pytest.raises(DataUnavailableError) as excinfo:
        load_fashion_mnist()
    assert explains_how_to_get_data(str(excinfo.value))


# --------------------------------------------------------------------------- small helpers


def test_class_names_are_the_ten_fashion_mnist_classes():
    assert len(CLASS_NAMES) == 10
    assert (CLASS_NAMES[0], CLASS_NAMES[6], CLASS_NAMES[9]) == ("T-shirt/top", "Shirt", "Ankle boot")


def test_pixel_stats_scale_pixels_to_the_unit_interval():
    images = torch.tensor([[0, 255], [0, 255]], dtype=torch.uint8)
    mean, std = pixel_stats(images)
    assert mean == pytest.approx(0.5)
    assert std == pytest.approx(np.std([0, 1, 0, 1], ddof=1))


def test_normalize_standardizes_and_adds_a_channel_axis():
    images = torch.full((3, 28, 28), 255, dtype=torch.uint8)
    result = normalize(images, mean=0.5, std=0.25)
    assert result.shape == (3, 1, 28, 28) and result.dtype == torch.float32
    assert torch.allclose(result, torch.full_like(result, 2.0))


def test_train_val_indices_partition_the_range():
    train_idx, val_idx = train_val_indices(100, 30, seed=1)
    assert len(train_idx) == 70 and len(val_idx) == 30
    assert sorted(train_idx.tolist() + val_idx.tolist()) == list(range(100))
    assert torch.equal(train_idx, train_idx.sort().values)


def test_train_val_indices_are_seeded():
    assert torch.equal(train_val_indices(100, 30, seed=1)[1], train_val_indices(100, 30, seed=1)[1])
    assert not torch.equal(train_val_indices(100, 30, seed=1)[1], train_val_indices(100, 30, seed=2)[1])


@pytest.mark.parametrize("val_size", [0, 100, -1])
def test_train_val_indices_reject_an_impossible_validation_size(val_size):
    with pytest.raises(ValueError, match="val_size"):
        train_val_indices(100, val_size)


def _dataset(n: int) -> TensorDataset:
    return TensorDataset(torch.arange(n, dtype=torch.float32), torch.arange(n))


def test_make_loader_serves_whole_batches_in_order():
    batches = list(make_loader(_dataset(250), batch_size=100))
    assert [len(labels) for _, labels in batches] == [100, 100, 50]
    assert torch.equal(torch.cat([labels for _, labels in batches]), torch.arange(250))


def test_make_loader_shuffles_every_item_once():
    labels = torch.cat([y for _, y in make_loader(_dataset(250), batch_size=100, shuffle=True)])
    assert not torch.equal(labels, torch.arange(250))
    assert torch.equal(labels.sort().values, torch.arange(250))


def test_make_loader_shuffling_is_seeded():
    def order(seed: int) -> torch.Tensor:
        return torch.cat([y for _, y in make_loader(_dataset(50), 10, shuffle=True, seed=seed)])

    assert torch.equal(order(3), order(3))
    assert not torch.equal(order(3), order(4))


def test_make_loader_rejects_a_batch_size_of_zero():
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(_dataset(5), batch_size=0)


# --------------------------------------------------------------------------- the real data


@pytest.mark.real_data
def test_real_data_is_found_without_configuration():
    directory = find_data_dir(download=False)
    names = sorted(os.listdir(directory))
    assert any(name.startswith("train-images-idx3-ubyte") for name in names)


@pytest.mark.real_data
@pytest.mark.parametrize("split, count", [("train", 60_000), ("test", 10_000)])
def test_real_split_sizes_and_shapes(real_splits, split, count):
    images, labels = real_splits[split]
    assert images.shape == (count, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (count,) and labels.dtype == torch.int64


@pytest.mark.real_data
@pytest.mark.parametrize("split, per_class", [("train", 6_000), ("test", 1_000)])
def test_real_splits_are_exactly_balanced(real_splits, split, per_class):
    _, labels = real_splits[split]
    assert labels.min().item() == 0 and labels.max().item() == 9
    assert torch.bincount(labels, minlength=10).tolist() == [per_class] * 10


@pytest.mark.real_data
def test_real_images_use_the_full_pixel_range(real_splits):
    images, _ = real_splits["train"]
    assert images.min().item() == 0 and images.max().item() == 255


@pytest.mark.real_data
def test_real_data_is_split_55k_5k_10k(real_data):
    assert DEFAULT_VAL_SIZE == 5_000
    assert [len(real_data.train), len(real_data.val), len(real_data.test)] == [55_000, 5_000, 10_000]
    assert real_data.train.tensors[0].shape == (55_000, 1, 28, 28)
    assert real_data.fingerprint() == {"train": 55_000, "val": 5_000, "split_seed": 59}


@pytest.mark.real_data
def test_real_validation_split_is_disjoint_seeded_and_taken_from_train(real_data, real_splits):
    train_idx, val_idx = train_val_indices(60_000, DEFAULT_VAL_SIZE, seed=59)
    assert set(train_idx.tolist()).isdisjoint(val_idx.tolist())
    assert len(set(train_idx.tolist()) | set(val_idx.tolist())) == 60_000
    raw_images, raw_labels = real_splits["train"]
    assert torch.equal(real_data.val.tensors[1], raw_labels[val_idx])
    assert torch.equal(real_data.train.tensors[1], raw_labels[train_idx])
    assert torch.equal(real_data.val.tensors[0], normalize(raw_images[val_idx], real_data.mean, real_data.std))
    assert not torch.equal(train_val_indices(60_000, DEFAULT_VAL_SIZE, seed=60)[1], val_idx)


@pytest.mark.real_data
def test_real_validation_split_keeps_every_class(real_data):
    counts = torch.bincount(real_data.val.tensors[1], minlength=10)
    assert counts.sum().item() == 5_000
    assert counts.min().item() > 400  # a random 1/12 of 6,000 images per class is close to 500


@pytest.mark.real_data
def test_real_pixel_statistics(real_data):
    assert real_data.mean == pytest.approx(0.286, abs=0.003)
    assert real_data.std == pytest.approx(0.353, abs=0.003)
    assert real_data.train.tensors[0].mean().item() == pytest.approx(0.0, abs=1e-3)
