"""Preparing Fashion-MNIST: splits, normalization and loaders (lenet_utils.data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.data as data_module
from lenet_utils import (
    CLASS_NAMES,
    CorruptDataError,
    DataUnavailableError,
    load_fashion_mnist,
    load_split,
    make_loader,
    pixel_stats,
)
from lenet_utils.data import DEFAULT_VAL_SIZE, normalize, train_val_indices

# --------------------------------------------------------------------------- load_split


def test_load_split_returns_uint8_images_and_int64_labels(idx_dir, tiny_split_sizes, make_images):
    images, labels = load_split("test", idx_dir)
    expected_images, expected_labels = make_images(tiny_split_sizes["test"], seed=1)
    assert images.dtype == torch.uint8
    assert labels.dtype == torch.int64
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


@pytest.mark.parametrize("idx_dir", ["plain"], indirect=True)
def test_load_split_refuses_a_plain_copy_that_disagrees_with_its_gz(idx_dir, write_idx):
    labels = next(idx_dir.glob("t10k-labels*"))
    shifted = (np.frombuffer(labels.read_bytes(), np.uint8, offset=8) + 1) % 10
    write_idx(labels.with_name(labels.name + ".gz"), np.frombuffer(labels.read_bytes(), np.uint8, offset=8))
    write_idx(labels, shifted)
    with pytest.raises(CorruptDataError, match=f"^{labels} and {labels}.gz hold different data"):
        load_split("test", idx_dir)
    assert load_split("train", idx_dir)[1].shape == (60,)  # the other split's files are single and fine


def test_load_split_says_when_the_files_change_after_the_folder_was_chosen(idx_dir, monkeypatch):
    found = data_module.find_data_dir

    def find_then_lose_a_file(data_dir=None):
        directory = found(data_dir)
        next(directory.glob("t10k-labels*")).unlink()  # as another process or a tidy student would
        return directory

    monkeypatch.setattr(data_module, "find_data_dir", find_then_lose_a_file)
    with pytest.raises(DataUnavailableError, match=f"^the files in {idx_dir} changed while they were being read"):
        load_split("test", idx_dir)


def test_load_split_reports_missing_data_offline(offline):
    with pytest.raises(DataUnavailableError):
        load_split("train")


# --------------------------------------------------------------------------- load_fashion_mnist


def test_load_fashion_mnist_holds_out_a_validation_split(idx_dir):
    data = load_fashion_mnist(data_dir=idx_dir, val_size=10)
    assert [len(data.train), len(data.val), len(data.test)] == [50, 10, 20]
    for images, labels in (data.train.tensors, data.val.tensors, data.test.tensors):
        assert images.dtype == torch.float32
        assert images.shape[1:] == (1, 28, 28)
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
    assert result.shape == (3, 1, 28, 28)
    assert result.dtype == torch.float32
    assert torch.allclose(result, torch.full_like(result, 2.0))


def test_train_val_indices_partition_the_range():
    train_idx, val_idx = train_val_indices(100, 30, seed=1)
    assert len(train_idx) == 70
    assert len(val_idx) == 30
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
@pytest.mark.parametrize("split, count", [("train", 60_000), ("test", 10_000)])
def test_real_split_sizes_and_shapes(real_splits, split, count):
    images, labels = real_splits[split]
    assert images.shape == (count, 28, 28)
    assert images.dtype == torch.uint8
    assert labels.shape == (count,)
    assert labels.dtype == torch.int64


@pytest.mark.real_data
@pytest.mark.parametrize("split, per_class", [("train", 6_000), ("test", 1_000)])
def test_real_splits_are_exactly_balanced(real_splits, split, per_class):
    _, labels = real_splits[split]
    assert labels.min().item() == 0
    assert labels.max().item() == 9
    assert torch.bincount(labels, minlength=10).tolist() == [per_class] * 10


@pytest.mark.real_data
def test_real_images_use_the_full_pixel_range(real_splits):
    images, _ = real_splits["train"]
    assert images.min().item() == 0
    assert images.max().item() == 255


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
