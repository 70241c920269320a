"""Finding, validating and serving Fashion-MNIST as in-memory tensors."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from .errors import CorruptDataError, DataUnavailableError
from .paths import CACHE_ENV, cache_dir, unwritable_reason
from .runtime import DEFAULT_SEED

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DATA_ENV = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SIZE = 28
SPLIT_SIZES = {"train": 60_000, "test": 10_000}
# Hold out 5,000 of the 60,000 training images: enough to compare models (about ±0.4 points of
# standard error), while training on 55,000, close to the original post's 60,000.
DEFAULT_VAL_SIZE = 5_000
_PREFIX = {"train": "train", "test": "t10k"}
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049
DATA_DIR_OPTION = "data_dir="  # the command line shows its own spelling, --data-dir, in these messages
LOCAL_WAYS = (
    f"pass {DATA_DIR_OPTION} (or set {DATA_ENV}) to a folder holding the four IDX files, "
    "install Debian's package dataset-fashion-mnist"
)
HOW_TO_PROVIDE = f"{LOCAL_WAYS}, or connect to the internet so torchvision can download it"
REPLACE = "replace it with a fresh copy"


def _stem(split: str, kind: str) -> str:
    """File name of the plain IDX file of `split`/`kind`, e.g. t10k-labels-idx1-ubyte."""
    return f"{_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"


def _idx_path(directory: Path, split: str, kind: str) -> Path | None:
    """Return the IDX file of `split`/`kind` in `directory`, plain or gzipped, if present."""
    for name in (_stem(split, kind), _stem(split, kind) + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _missing_files(directory: Path) -> list[str]:
    """Names of the Fashion-MNIST IDX files that `directory` lacks (plain or .gz)."""
    return [_stem(s, k) for s in SPLIT_SIZES for k in ("images", "labels") if not _idx_path(directory, s, k)]


def _has_all_files(directory: Path) -> bool:
    """Whether `directory` holds all four Fashion-MNIST IDX files."""
    return not _missing_files(directory)


def torchvision_root() -> Path:
    """Return the root that torchvision downloads into (its files land in FashionMNIST/raw)."""
    return cache_dir() / "data"


def find_data_dir(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Locate the IDX files: explicit dir or $FASHION_MNIST_DIR, torchvision cache, Debian, download."""
    explicit = data_dir or os.environ.get(DATA_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        named = str(path) if data_dir else f"{path} (named by {DATA_ENV})"
        if not path.is_dir():
            raise DataUnavailableError(f"{named} is not a folder; {HOW_TO_PROVIDE}.")
        missing = _missing_files(path)
        if missing:
            raise DataUnavailableError(f"{named} lacks {', '.join(missing)} (plain or .gz); {HOW_TO_PROVIDE}.")
        return path
    raw = torchvision_root() / "FashionMNIST" / "raw"
    for candidate in (raw, DEBIAN_DIR):
        if _has_all_files(candidate):
            return candidate
    if download:
        problem = unwritable_reason(torchvision_root())
        if problem:
            raise DataUnavailableError(
                f"Fashion-MNIST is not on this machine and cannot be downloaded into {torchvision_root()} "
                f"({problem}); set {CACHE_ENV} to a writable folder, or {LOCAL_WAYS}."
            )
        try:
            from torchvision.datasets import FashionMNIST

            for train in (True, False):
                FashionMNIST(root=str(torchvision_root()), train=train, download=True)
        except Exception as exc:  # any network or checksum failure means "not available here"
            raise DataUnavailableError(
                f"Fashion-MNIST is not on this machine and could not be downloaded ({type(exc).__name__}); "
                f"{HOW_TO_PROVIDE}."
            ) from None
        if _has_all_files(raw):
            return raw
    raise DataUnavailableError(f"Fashion-MNIST is not on this machine; {HOW_TO_PROVIDE}.")


def _read_bytes(path: Path) -> bytes:
    """Read a plain or gzipped file, turning decompression failures into CorruptDataError."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptDataError(f"{path} is damaged ({exc}); {REPLACE}.") from None
    except OSError as exc:  # the file may be fine: say why it cannot be read, not that it is damaged
        raise CorruptDataError(
            f"{path} cannot be read ({exc.strerror}); make it readable (chmod a+r) or use another copy."
        ) from None


def read_idx(path: str | os.PathLike, expected_count: int | None = None) -> np.ndarray:
    """Read an IDX image (N,28,28) or label (N,) file, validating magic number, count and shape."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise CorruptDataError(f"{path} is too short to be an IDX file; {REPLACE}.")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == _IMAGE_MAGIC:
        if len(raw) < 16:
            raise CorruptDataError(f"{path} has a truncated header; {REPLACE}.")
        rows, cols = struct.unpack(">II", raw[8:16])
        shape, offset = (count, rows, cols), 16
        if (rows, cols) != (IMAGE_SIZE, IMAGE_SIZE):
            raise CorruptDataError(
                f"{path} holds {rows}x{cols} images, not 28x28, so it is not Fashion-MNIST; {REPLACE}."
            )
    elif magic == _LABEL_MAGIC:
        shape, offset = (count,), 8
    else:
        raise CorruptDataError(f"{path} has magic number {magic}, not an IDX image or label file; {REPLACE}.")
    if expected_count is not None and count != expected_count:
        raise CorruptDataError(f"{path} says it holds {count} items, expected {expected_count}; {REPLACE}.")
    expected_bytes = offset + int(np.prod(shape))
    if len(raw) != expected_bytes:
        state = "it is truncated" if len(raw) < expected_bytes else "extra bytes follow the data"
        raise CorruptDataError(
            f"{path} has {len(raw)} bytes where its header promises {expected_bytes}; {state}, {REPLACE}."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)
    if magic == _LABEL_MAGIC and array.size and array.max() >= len(CLASS_NAMES):
        raise CorruptDataError(f"{path} holds label {array.max()}, outside 0-9; {REPLACE}.")
    return array


def load_split(split: str, data_dir: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (uint8 images N×28×28, int64 labels N) of the "train" or "test" split."""
    if split not in SPLIT_SIZES:
        raise ValueError(f"split must be one of {sorted(SPLIT_SIZES)}, got {split!r}")
    directory = find_data_dir(data_dir)
    n = SPLIT_SIZES[split]
    images = read_idx(_idx_path(directory, split, "images"), n)
    labels = read_idx(_idx_path(directory, split, "labels"), n)
    if images.ndim != 3 or labels.ndim != 1:
        raise CorruptDataError(
            f"the {split} image and label files in {directory} are swapped or misnamed; rename or replace them."
        )
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def pixel_stats(images: torch.Tensor) -> tuple[float, float]:
    """Return mean and standard deviation of pixel values scaled to [0, 1]."""
    x = images.double() / 255.0
    return x.mean().item(), x.std().item()


def normalize(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Scale uint8 images to [0,1], standardize, and add the channel axis: N×1×28×28 float32."""
    return ((images.float() / 255.0 - mean) / std).unsqueeze(1)


def train_val_indices(n: int, val_size: int, seed: int = DEFAULT_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Return a seeded random partition of range(n) into (train, validation) indices."""
    if not 0 < val_size < n:
        raise ValueError(f"val_size must be between 1 and {n - 1}, got {val_size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


@dataclass(frozen=True)
class DataSplits:
    """Normalized train/validation/test tensors and the statistics used to normalize them."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    mean: float
    std: float
    split_seed: int

    def fingerprint(self) -> dict:
        """What identifies this split, so checkpoints trained on another split are not reused."""
        return {"train": len(self.train), "val": len(self.val), "split_seed": self.split_seed}


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None, val_size: int = DEFAULT_VAL_SIZE, seed: int = DEFAULT_SEED
) -> DataSplits:
    """Load Fashion-MNIST, hold out `val_size` training images, normalize with training-set statistics."""
    train_images, train_labels = load_split("train", data_dir)
    test_images, test_labels = load_split("test", data_dir)
    train_idx, val_idx = train_val_indices(len(train_labels), val_size, seed)
    mean, std = pixel_stats(train_images[train_idx])

    def dataset(images: torch.Tensor, labels: torch.Tensor) -> TensorDataset:
        return TensorDataset(normalize(images, mean, std), labels)

    return DataSplits(
        train=dataset(train_images[train_idx], train_labels[train_idx]),
        val=dataset(train_images[val_idx], train_labels[val_idx]),
        test=dataset(test_images, test_labels),
        mean=mean,
        std=std,
        split_seed=seed,
    )


def make_loader(
    dataset: TensorDataset, batch_size: int = 100, shuffle: bool = False, seed: int = DEFAULT_SEED
) -> DataLoader:
    """Serve whole batches by tensor indexing (no per-image collation); shuffling is seeded."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    order = (
        RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    )
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last=False), batch_size=None)
