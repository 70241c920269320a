"""Preparing a room: every model the chapters use in the cache, and installing a bundle on lab machines offline.

`python -m lenet_utils prepare` trains or fetches each model of `book_models()` into the cache, never touching
the chapters; `python -m lenet_utils prepare --from-bundle FILE` first installs a bundle that
`python -m booktools.release bundle FILE` wrote (the data and those checkpoints with their SHA-256 digests),
after checking every digest, where the chapters find it by themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tarfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .cache import train_or_load
from .chapter_models import book_models
from .data import load_fashion_mnist
from .errors import CacheError, LenetError
from .locate import torchvision_root
from .paths import CACHE_ENV, cache_dir
from .runtime import pick_device

BUNDLE_ROOT = "lenet-room"
SUMS = "SHA256SUMS"
# The only files a bundle may install, by their path inside it: nothing else is ever written.
BUNDLE_FILE = re.compile(
    r"(fashion-mnist/(train|t10k)-(images-idx3|labels-idx1)-ubyte(\.gz)?|checkpoints/lenet-[\w.-]+\.pt)"
)
# Limits checked on each member's header before it is read: Fashion-MNIST's largest file is 47 MB unpacked, a
# checkpoint of the book under 1 MB, and the book has 9 models.
MAX_SIZE = {"fashion-mnist": 64 << 20, "checkpoints": 4 << 20, SUMS: 1 << 16}
MAX_CHECKPOINTS = 16
CHUNK = 1 << 20


class BundleError(LenetError):
    """A bundle is damaged, incomplete, or not a bundle of this book."""


def prepare(data_dir: str | None = None, device: object = None, fetch: bool = True) -> bool:
    """Obtain every model of the book into the cache, one line per model; False if interrupted."""
    data = load_fashion_mnist(data_dir)
    device = device or pick_device()
    models = book_models()
    for number, (label, config) in enumerate(models.items(), start=1):
        print(f"[{number}/{len(models)}] {label}: {config.checkpoint_path(data).name}", flush=True)
        start = time.perf_counter()
        result = train_or_load(config, data, device, fetch=fetch, show_log=False)
        if result.history.interrupted:
            return False
        seconds = f" in {time.perf_counter() - start:.0f} s" if result.how == "trained" else ""
        print(f"[{number}/{len(models)}] {label}: {result.how}{seconds}", flush=True)
    print(f"the cache {cache_dir() / 'checkpoints'} holds the {len(models)} models the chapters use.")
    return True


def install_bundle(file: Path) -> list[str]:
    """Put the data and checkpoints of bundle `file` where the chapters look, all or none; one line per file.

    Each member is copied beside its destination under a temporary name, its name and size checked before it is
    read; only when every file is there and matches its SHA256SUMS line are they renamed into place.
    """
    folders = {"fashion-mnist": torchvision_root() / "FashionMNIST" / "raw", "checkpoints": cache_dir() / "checkpoints"}
    destinations = {}
    staged: dict[str, tuple[Path, str]] = {}  # path in the bundle -> (its temporary copy, its SHA-256 digest)
    try:
        sums = _stage(file, folders, staged)
        listed = _listed(file, sums)
        for name, (tmp, digest) in staged.items():
            if name not in listed:
                raise BundleError(f"{file} holds {name}, which its {SUMS} does not list; make it again.")
            if digest != listed[name]:
                raise BundleError(f"{file}: {name} does not match its SHA-256 digest; copy the bundle again.")
            destinations[name] = tmp.parent / name.partition("/")[2]
            if destinations[name].is_dir() and not destinations[name].is_symlink():  # a rename would fail midway
                raise CacheError(f"{destinations[name]} is a folder, so nothing was installed; move it away first.")
        missing = sorted(listed.keys() - staged.keys())
        if missing:
            raise BundleError(f"{file} lists {missing[0]!r}, which it lacks or may not install; make it again.")
        for name, destination in destinations.items():
            with _writing(destination.parent):
                os.replace(staged[name][0], destination)
    finally:
        for tmp, _ in staged.values():
            tmp.unlink(missing_ok=True)
    return [f"installed {destination} (SHA-256 verified)" for destination in destinations.values()]


def _stage(file: Path, folders: dict[str, Path], staged: dict[str, tuple[Path, str]]) -> bytes | None:
    """Copy every file of bundle `file` to a temporary name beside its destination, into `staged`; its SHA256SUMS."""
    sums, checkpoints = None, 0
    try:
        with tarfile.open(file, mode="r|*") as tar:  # a stream: one member at a time, nothing held in memory
            for member in tar:
                if member.isdir():
                    continue
                name = member.name.removeprefix(f"{BUNDLE_ROOT}/")
                kind = SUMS if name == SUMS else name.partition("/")[0]
                allowed = name == SUMS or (name != member.name and BUNDLE_FILE.fullmatch(name))
                if not (allowed and member.isfile()) or name in staged or (name == SUMS and sums is not None):
                    raise BundleError(f"{file} holds {member.name!r}, which a bundle may not hold; make it again.")
                if member.size > MAX_SIZE[kind]:
                    raise BundleError(f"{file}: {name} is larger than any file of the book; make the bundle again.")
                checkpoints += kind == "checkpoints"
                if checkpoints > MAX_CHECKPOINTS:
                    raise BundleError(f"{file} holds more checkpoints than the book has models; make it again.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has content
                if name == SUMS:
                    sums = source.read()
                    continue
                destination = folders[kind] / name.partition("/")[2]
                tmp = destination.with_name(f".{destination.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
                staged[name] = (tmp, "")  # from here on, the caller removes it whatever happens
                staged[name] = (tmp, _copy(source, tmp))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BundleError(f"{file} cannot be read as a bundle ({exc}); copy it again.") from None
    return sums


def _copy(source: IO[bytes], tmp: Path) -> str:
    """Copy `source` into the new file `tmp` (making its folder); its SHA-256 digest. Writing fails as CacheError."""
    digest = hashlib.sha256()
    with _writing(tmp.parent):
        tmp.parent.mkdir(parents=True, exist_ok=True)
        out = open(tmp, "xb")  # noqa: SIM115 (closed below; the reads in between may fail as themselves)
    with out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            with _writing(tmp.parent):
                out.write(chunk)
        with _writing(tmp.parent):
            out.flush()
            os.fsync(out.fileno())
    return digest.hexdigest()


@contextmanager
def _writing(folder: Path) -> Iterator[None]:
    """Turn an error of writing into `folder` (full, read-only, not a folder) into one sentence."""
    try:
        yield
    except OSError as exc:
        raise CacheError(
            f"cannot install the bundle into {folder} ({exc.strerror}), so nothing was installed; free space there "
            f"or set {CACHE_ENV} to a writable folder."
        ) from None


def _listed(file: Path, sums: bytes | None) -> dict[str, str]:
    """Path -> SHA-256 digest of every file that the bundle's SHA256SUMS lists; BundleError if it cannot say."""
    if sums is None:
        raise BundleError(f"{file} has no {BUNDLE_ROOT}/{SUMS}; it is not a bundle made by `bundle`.")
    listed = {}
    for line in sums.decode("utf-8", errors="replace").splitlines():
        match = re.fullmatch(r"([0-9a-fA-F]{64})  (.+)", line)
        if line.strip() and match is None:
            raise BundleError(f"{file}: a line of its {SUMS} is not a digest and a name; make it again.")
        if match:
            listed[match[2]] = match[1].lower()
    if not listed:
        raise BundleError(f"{file}: its {SUMS} lists no files; make it again.")
    return listed
