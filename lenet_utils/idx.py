"""Reading and validating Fashion-MNIST's IDX files, plain or gzipped (chapter 1 shows what they hold)."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import CorruptDataError

IMAGE_SIZE = 28
NUM_CLASSES = 10
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
KINDS = ("images", "labels")
_PREFIX = {"train": "train", "test": "t10k"}
REPLACE = "replace it with a fresh copy"


def idx_name(split: str, kind: str) -> str:
    """File name of the plain IDX file of `split`/`kind`, e.g. t10k-labels-idx1-ubyte."""
    return f"{_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"


def all_idx_names() -> list[str]:
    """The four plain IDX file names of Fashion-MNIST, train before test, images before labels."""
    return [idx_name(split, kind) for split in _PREFIX for kind in KINDS]


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    """Open a plain or gzipped file for reading, turning failures into CorruptDataError that say which."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            yield fh
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptDataError(f"{path} is damaged ({exc}); {REPLACE}.") from None
    except OSError as exc:  # the file may be fine: say why it cannot be read, not that it is damaged
        raise CorruptDataError(
            f"{path} cannot be read ({exc.strerror}); make it readable (chmod a+r) or use another copy."
        ) from None


def read_idx(path: str | os.PathLike, expected_count: int | None = None) -> np.ndarray:
    """Read an IDX image (N,28,28) or label (N,) file, validating magic number, count and shape."""
    path = Path(path)
    with _opened(path) as fh:
        raw = fh.read(16)  # the longest header, that of images
        if len(raw) < 8:
            raise CorruptDataError(f"{path} is too short to be an IDX file; {REPLACE}.")
        magic, count = struct.unpack(">II", raw[:8])
        if magic == IMAGE_MAGIC:
            if len(raw) < 16:
                raise CorruptDataError(f"{path} has a truncated header; {REPLACE}.")
            rows, cols = struct.unpack(">II", raw[8:16])
            shape, offset = (count, rows, cols), 16
            if (rows, cols) != (IMAGE_SIZE, IMAGE_SIZE):
                raise CorruptDataError(
                    f"{path} holds {rows}x{cols} images, not 28x28, so it is not Fashion-MNIST; {REPLACE}."
                )
        elif magic == LABEL_MAGIC:
            shape, offset = (count,), 8
        else:
            raise CorruptDataError(f"{path} has magic number {magic}, not an IDX image or label file; {REPLACE}.")
        if expected_count is not None and count != expected_count:
            raise CorruptDataError(f"{path} says it holds {count} items, expected {expected_count}; {REPLACE}.")
        expected_bytes = offset + int(np.prod(shape))
        # One byte past what the header promises tells "extra bytes" without reading a huge wrong file whole.
        raw += fh.read(max(expected_bytes - len(raw), 0) + 1)
    if len(raw) < expected_bytes:
        raise CorruptDataError(
            f"{path} has {len(raw)} bytes where its header promises {expected_bytes}; it is truncated, {REPLACE}."
        )
    if len(raw) > expected_bytes:
        raise CorruptDataError(
            f"{path} has more than the {expected_bytes} bytes its header promises; extra bytes follow the data, "
            f"{REPLACE}."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)
    if magic == LABEL_MAGIC and array.size and array.max() >= NUM_CLASSES:
        raise CorruptDataError(f"{path} holds label {array.max()}, outside 0-9; {REPLACE}.")
    return array


def read_copies(paths: list[Path], expected_count: int) -> np.ndarray:
    """Read one IDX file that may exist twice, plain and .gz (torchvision keeps both): every copy must agree.

    A damaged copy next to a good one is named together with the good one; two good copies that differ
    are refused, since there is no telling which is right.
    """
    arrays, problems = {}, {}
    for path in paths:
        try:
            arrays[path] = read_idx(path, expected_count)
        except CorruptDataError as exc:
            problems[path] = exc
    if problems and arrays:
        [exc] = problems.values()  # two copies at most, so one is bad and one is good
        [good] = arrays
        raise CorruptDataError(f"{str(exc).rstrip('.')}, or delete it so that its good copy {good} is used.")
    if problems:
        raise next(iter(problems.values()))
    first, *others = arrays.values()
    if any(not np.array_equal(first, other) for other in others):
        raise CorruptDataError(
            f"{' and '.join(map(str, arrays))} hold different data, so there is no telling which is right; "
            "delete the wrong one, or both and let the data be found or downloaded again."
        )
    return first
