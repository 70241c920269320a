"""Reading and validating IDX files, plain or gzipped (lenet_utils.idx)."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_utils import CorruptDataError
from lenet_utils.idx import read_copies, read_idx

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
    with pytest.raises(
        CorruptDataError, match="more than the 2368 bytes its header promises; extra bytes follow"
    ) as excinfo:
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


@pytest.mark.parametrize(("rows", "cols"), [(32, 32), (28, 32), (32, 28)])
def test_read_idx_rejects_images_that_are_not_28_by_28(tmp_path, write_idx, rows, cols):
    path = write_idx(tmp_path / "images", np.zeros((2, rows, cols), dtype=np.uint8))
    with pytest.raises(CorruptDataError, match=f"{rows}x{cols}"):
        read_idx(path)


def test_read_idx_does_not_read_a_huge_wrong_file_whole(tmp_path, write_idx):
    """A file named like Fashion-MNIST but far too large fails at once: only one byte past the promise is read."""
    path = write_idx(tmp_path / "labels", np.arange(5))
    with path.open("r+b") as fh:
        fh.truncate(2**34)  # 16 GiB, sparse: no disk space used, but reading it whole would exhaust memory
    with pytest.raises(CorruptDataError, match="more than the 13 bytes its header promises"):
        read_idx(path)


# --------------------------------------------------------------------------- read_copies: plain and .gz side by side


def test_two_copies_that_agree_are_read_once(tmp_path, write_idx):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    paths = [write_idx(tmp_path / "labels", labels), write_idx(tmp_path / "labels.gz", labels)]
    np.testing.assert_array_equal(read_copies(paths, 5), labels)


def test_a_plain_copy_that_disagrees_with_its_gz_is_refused(tmp_path, write_idx):
    """Issue 21 item 7: a plain file with every label shifted by one was used without a word."""
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    plain = write_idx(tmp_path / "labels", (labels + 1) % 10)
    gz = write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(CorruptDataError) as excinfo:
        read_copies([plain, gz], 5)
    assert str(excinfo.value) == (
        f"{plain} and {gz} hold different data, so there is no telling which is right; "
        "delete the wrong one, or both and let the data be found or downloaded again."
    )


@pytest.mark.parametrize("damaged", ["plain", "gz"])
def test_a_damaged_copy_next_to_a_good_one_names_the_good_one(tmp_path, write_idx, make_images, damaged):
    """Issue 21 item 7: a truncated plain file next to a good .gz was reported with no mention of the .gz."""
    images, _ = make_images(3)
    plain, gz = write_idx(tmp_path / "images", images), write_idx(tmp_path / "images.gz", images)
    bad, good = (plain, gz) if damaged == "plain" else (gz, plain)
    bad.write_bytes(bad.read_bytes()[:-100])
    with pytest.raises(CorruptDataError) as excinfo:
        read_copies([plain, gz], 3)
    message = str(excinfo.value)
    assert message.startswith(f"{bad} ")
    assert message.endswith(f"replace it with a fresh copy, or delete it so that its good copy {good} is used.")


def test_two_damaged_copies_report_the_first(tmp_path, write_idx):
    plain = write_idx(tmp_path / "labels", np.arange(5), count=6)
    gz = write_idx(tmp_path / "labels.gz", np.arange(5), count=6)
    with pytest.raises(CorruptDataError, match=f"^{plain} has 13 bytes where its header promises 14"):
        read_copies([plain, gz], 6)
