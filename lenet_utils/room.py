"""Preparing a room: every model the chapters use in the cache, and a bundle for lab machines without internet.

`python -m lenet_utils prepare` trains or fetches each model of `book_models()` into the cache, never touching
the chapters. `python -m lenet_utils bundle FILE` packs the data and those checkpoints with their SHA-256
digests; `python -m lenet_utils prepare --from-bundle FILE` installs such a bundle on a machine, after
checking every digest, where the chapters find it by themselves.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from .book_models import book_models
from .checkpoint import CheckpointDigestError, sha256_hex, unseal, write_atomically
from .data import load_fashion_mnist
from .errors import LenetError
from .experiment import obtain
from .locate import find_data_dir, idx_copies, torchvision_root
from .paths import cache_dir
from .release import DIGESTS_FILE, write_release_assets
from .runtime import pick_device

BUNDLE_ROOT = "lenet-room"
SUMS = "SHA256SUMS"
# The only files a bundle may install, by their path inside it: nothing else is ever written.
BUNDLE_FILE = re.compile(
    r"(fashion-mnist/(train|t10k)-(images|labels)-idx[13]-ubyte(\.gz)?|checkpoints/lenet-[\w.-]+\.pt)"
)
MAX_BUNDLE_FILE = 256 << 20  # Fashion-MNIST's largest file is 47 MB unpacked; a checkpoint under 1 MB


class BundleError(LenetError):
    """A bundle is damaged, incomplete, or not a bundle of this book."""


def add_commands(commands: argparse._SubParsersAction, device: Callable[[str], object]) -> None:
    """Add `prepare`, `bundle` and `release-assets` to the command line; `device` parses --device."""
    p = commands.add_parser("prepare", help="train or fetch every model the chapters use into the cache")
    p.add_argument("--data-dir", default=None, help="folder holding the four Fashion-MNIST IDX files")
    p.add_argument("--device", type=device, default=None, help="cuda, mps or cpu (default: the first available)")
    p.add_argument("--no-fetch", action="store_true", help="train every missing model here, download nothing")
    p.add_argument("--from-bundle", type=Path, default=None, metavar="FILE", help="install a bundle first")
    p.set_defaults(run=run_prepare)
    p = commands.add_parser("bundle", help="write the data and the chapters' checkpoints into one .tar.gz")
    p.add_argument("file", type=Path, help="the bundle to write, e.g. lenet-room.tar.gz")
    p.add_argument("--data-dir", default=None, help="folder holding the four Fashion-MNIST IDX files")
    p.set_defaults(run=run_bundle)
    p = commands.add_parser("release-assets", help="copy the chapters' checkpoints for a release, record digests")
    p.add_argument("out", type=Path, help="folder to copy the checkpoints into")
    p.add_argument("--data-dir", default=None, help="folder holding the four Fashion-MNIST IDX files")
    p.add_argument("--digests", type=Path, default=None, help=f"digests file to write (default: {DIGESTS_FILE})")
    p.set_defaults(run=run_release_assets)


def prepare(data_dir: str | None = None, device: object = None, fetch: bool = True) -> bool:
    """Obtain every model of the book into the cache, one line per model; False if interrupted."""
    data = load_fashion_mnist(data_dir)
    device = device or pick_device()
    models = book_models()
    for number, (label, config) in enumerate(models.items(), start=1):
        print(f"[{number}/{len(models)}] {label}: {config.checkpoint_path(data).name}", flush=True)
        start = time.perf_counter()
        result, how = obtain(config, data, device, fetch=fetch, show_log=False, stacklevel=2)
        if result.history.interrupted:
            return False
        seconds = f" in {time.perf_counter() - start:.0f} s" if how == "trained" else ""
        print(f"[{number}/{len(models)}] {label}: {how}{seconds}", flush=True)
    print(f"the cache {cache_dir() / 'checkpoints'} holds the {len(models)} models the chapters use.")
    return True


def run_prepare(args: argparse.Namespace) -> int:
    """`prepare`: install a bundle if given, then obtain every model; the exit status."""
    try:
        if args.from_bundle is not None:
            for line in install_bundle(args.from_bundle):
                print(line)
        done = prepare(args.data_dir, args.device, fetch=not args.no_fetch and args.from_bundle is None)
    except KeyboardInterrupt:
        done = False
    if not done:
        print(
            "error: interrupted; the models finished so far are in the cache, run it again for the rest.",
            file=sys.stderr,
        )
        return 130
    return 0


def _checkpoints(data_dir: str | None, advice: str) -> list[Path]:
    """The cached checkpoints of every model of the book, each verified; BundleError names a missing one."""
    data = load_fashion_mnist(data_dir)
    paths = [config.checkpoint_path(data) for config in book_models().values()]
    for path in paths:
        try:
            unseal(path.read_bytes(), path)
        except FileNotFoundError:
            raise BundleError(f"{path} is missing; {advice}") from None
        except OSError as exc:
            raise BundleError(f"{path} cannot be read ({exc.strerror}); {advice}") from None
        except CheckpointDigestError:
            raise BundleError(f"{path} fails its SHA-256 check; {advice}") from None
    return paths


def write_bundle(file: Path, data_dir: str | None = None) -> list[str]:
    """Write the data and the book's checkpoints, with a SHA256SUMS of them, into `file` (.tar.gz); its lines."""
    members: dict[str, bytes] = {}
    copies, _ = idx_copies(find_data_dir(data_dir, download=False))
    for found in copies.values():
        for path in found:
            members[f"fashion-mnist/{path.name}"] = path.read_bytes()
    for path in _checkpoints(data_dir, "run `python -m lenet_utils prepare` (make room) first."):
        members[f"checkpoints/{path.name}"] = path.read_bytes()
    sums = "".join(f"{sha256_hex(content)}  {name}\n" for name, content in members.items())
    members[SUMS] = sums.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(f"{BUNDLE_ROOT}/{name}")
            info.size, info.mode, info.mtime = len(content), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(content))
    file.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(file, buffer.getvalue())
    return sums.splitlines()


def run_bundle(args: argparse.Namespace) -> int:
    """`bundle`: write the bundle and say what it holds; the exit status."""
    lines = write_bundle(args.file, args.data_dir)
    print(f"wrote {args.file} ({args.file.stat().st_size / 1e6:.1f} MB): {len(lines)} files with their SHA-256.")
    print(f"on each lab machine: python -m lenet_utils prepare --from-bundle {args.file.name}")
    return 0


def read_bundle(file: Path) -> dict[str, bytes]:
    """The files of bundle `file` by their path inside it, each checked against its SHA256SUMS line."""
    try:
        with tarfile.open(file, mode="r:*") as tar:
            members = {
                member.name.removeprefix(f"{BUNDLE_ROOT}/"): member
                for member in tar.getmembers()
                if member.isfile() and member.size <= MAX_BUNDLE_FILE
            }
            if SUMS not in members:
                raise BundleError(f"{file} has no {BUNDLE_ROOT}/{SUMS}; it is not a bundle made by `bundle`.")
            listed = [line.split("  ", 1) for line in _member(tar, members[SUMS]).decode().splitlines()]
            files = {}
            for digest, name in listed:
                if not BUNDLE_FILE.fullmatch(name) or name not in members:
                    raise BundleError(f"{file} lists {name!r}, which it lacks or may not install; make it again.")
                files[name] = _member(tar, members[name])
                if sha256_hex(files[name]) != digest:
                    raise BundleError(f"{file}: {name} does not match its SHA-256 digest; copy the bundle again.")
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{file} cannot be read as a bundle ({exc}); copy it again.") from None
    return files


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """The content of a regular file of `tar`."""
    handle = tar.extractfile(member)
    assert handle is not None  # a regular file always has content
    return handle.read()


def install_bundle(file: Path) -> list[str]:
    """Check every file of bundle `file`, then put the data and checkpoints where the chapters look; its lines."""
    files = read_bundle(file)  # every digest is checked before anything is written
    data_folder = torchvision_root() / "FashionMNIST" / "raw"
    checkpoints = cache_dir() / "checkpoints"
    lines = []
    for name, content in files.items():
        kind, _, base = name.partition("/")
        folder = data_folder if kind == "fashion-mnist" else checkpoints
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / base, content)
        lines.append(f"installed {folder / base} (SHA-256 verified)")
    return lines


def run_release_assets(args: argparse.Namespace) -> int:
    """`release-assets`: copy the book's checkpoints into OUT and record their digests; the exit status."""
    paths = _checkpoints(args.data_dir, "make the reference run (make notebooks, from an empty cache) first.")
    total = write_release_assets([path.name for path in paths], paths[0].parent, args.out, args.digests)
    for path in paths:
        print(f"{args.out / path.name}: {(args.out / path.name).stat().st_size:,} bytes")
    print(f"{len(paths)} checkpoints, {total:,} bytes in all; their digests are in {args.digests or DIGESTS_FILE}.")
    print("upload every file of that folder to the release of the tag the install cells name.")
    return 0
