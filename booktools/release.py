"""Release tooling: the book's trained weights as release assets, and a room's bundle for lab machines offline.

- `python -m booktools.release release-assets OUT`: right after the reference run, copy its checkpoints into OUT
  (to upload to the release) and record their digests in `lenet_utils/released_weights.json`;
- `python -m booktools.release bundle FILE`: write the data and the chapters' checkpoints, with a SHA256SUMS of
  them, into FILE (.tar.gz), which `python -m lenet_utils prepare --from-bundle FILE` installs on each machine.

Each replaces only what it made: an existing target must be a regular file of its kind (a bundle, a checkpoint,
a digests file), never a link, a folder or a device. Errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import io
import json
import stat
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from lenet_utils.chapter_models import book_models
from lenet_utils.checkpoint import CheckpointDigestError, sha256_hex, unseal, write_atomically
from lenet_utils.data import load_fashion_mnist
from lenet_utils.errors import LenetError
from lenet_utils.locate import find_data_dir, idx_copies
from lenet_utils.release import DIGESTS_FILE
from lenet_utils.room import BUNDLE_ROOT, SUMS
from lenet_utils.sigterm import sigterm_as_interrupt


class ReleaseError(LenetError):
    """A checkpoint to release is missing or damaged, or an output path cannot be written."""


def cached_checkpoints(data_dir: str | None, advice: str) -> dict[Path, bytes]:
    """The bytes of every model's cached checkpoint, each verified; ReleaseError (ending in `advice`) if not."""
    data = load_fashion_mnist(data_dir)
    checkpoints = {}
    for path in [config.checkpoint_path(data) for config in book_models().values()]:
        try:
            checkpoints[path] = path.read_bytes()
            unseal(checkpoints[path], path)
        except FileNotFoundError:
            raise ReleaseError(f"{path} is missing; {advice}") from None
        except OSError as exc:
            raise ReleaseError(f"{path} cannot be read ({exc.strerror}); {advice}") from None
        except CheckpointDigestError:
            raise ReleaseError(f"{path} fails its SHA-256 check; {advice}") from None
    return checkpoints


def _is_bundle(path: Path) -> bool:
    """Whether `path` holds a bundle that `bundle` wrote (its first member lies under lenet-room/)."""
    with tarfile.open(path, mode="r|*") as tar:
        first = tar.next()
    return first is not None and first.name.startswith(f"{BUNDLE_ROOT}/")


def _is_checkpoint(path: Path) -> bool:
    """Whether `path` holds a sealed checkpoint."""
    unseal(path.read_bytes(), path)
    return True


def _is_digests(path: Path) -> bool:
    """Whether `path` holds a digests file (a JSON object)."""
    return isinstance(json.loads(path.read_text(encoding="utf-8")), dict)


def check_target(path: Path, ours: Callable[[Path], bool], kind: str) -> None:
    """ReleaseError unless `path` is missing or a regular file that `ours` recognizes as a `kind`."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:  # a name too long, a parent that is a file
        raise ReleaseError(f"cannot write {path} ({exc.strerror}); name a {kind} in a writable folder.") from None
    if not stat.S_ISREG(mode):
        raise ReleaseError(f"{path} exists and is not a regular file; name a new {kind}.")
    try:
        recognized = ours(path)
    except (OSError, ValueError, tarfile.TarError, EOFError, LenetError):
        recognized = False
    if not recognized:
        raise ReleaseError(f"{path} exists and is not a {kind}; name a new one, or delete it first.")


def write_output(path: Path, content: bytes, ours: Callable[[Path], bool], kind: str) -> None:
    """Write `content` to `path` atomically, replacing only a regular file that `ours` recognizes as a `kind`."""
    check_target(path, ours, kind)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, content)
    except OSError as exc:
        raise ReleaseError(f"cannot write {path} ({exc.strerror}); name a {kind} in a writable folder.") from None


def write_bundle(file: Path, data_dir: str | None = None) -> list[str]:
    """Write the data and the book's checkpoints, with a SHA256SUMS of them, into `file` (.tar.gz); its lines."""
    check_target(file, _is_bundle, "bundle")  # before minutes of reading and packing
    members: dict[str, bytes] = {}
    copies, _ = idx_copies(find_data_dir(data_dir, download=False))
    for found in copies.values():
        for path in found:
            members[f"fashion-mnist/{path.name}"] = path.read_bytes()
    for path, content in cached_checkpoints(data_dir, "run `python -m lenet_utils prepare` (make room) first.").items():
        members[f"checkpoints/{path.name}"] = content
    sums = "".join(f"{sha256_hex(content)}  {name}\n" for name, content in members.items())
    members[SUMS] = sums.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(f"{BUNDLE_ROOT}/{name}")
            info.size, info.mode, info.mtime = len(content), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(content))
    write_output(file, buffer.getvalue(), _is_bundle, "bundle")
    return sums.splitlines()


def write_release_assets(out: Path, digests: Path, data_dir: str | None = None) -> list[Path]:
    """Copy the book's verified checkpoints into `out` and record their digests in `digests`; the copies."""
    try:
        is_folder = stat.S_ISDIR(out.lstat().st_mode)  # not a link to one: the checkpoints go where it says
    except FileNotFoundError:
        is_folder = True  # made when the first checkpoint is written
    except OSError:
        is_folder = False
    if not is_folder:
        raise ReleaseError(f"{out} is not a folder to copy the checkpoints into; name a new or existing one.")
    check_target(digests, _is_digests, "digests file")  # before copying anything
    released = {}
    checkpoints = cached_checkpoints(data_dir, "make the reference run (make notebooks, from an empty cache) first.")
    for path, data in checkpoints.items():  # the bytes that verified are the bytes released
        write_output(out / path.name, data, _is_checkpoint, "checkpoint")
        released[path.name] = {"sha256": sha256_hex(data), "bytes": len(data)}
    text = json.dumps(released, indent=2, sort_keys=True) + "\n"
    write_output(digests, text.encode(), _is_digests, "digests file")
    return [out / name for name in released]


def _bundle(args: argparse.Namespace) -> None:
    """`bundle`: write the bundle and say what it holds."""
    lines = write_bundle(args.file, args.data_dir)
    print(f"wrote {args.file} ({args.file.stat().st_size / 1e6:.1f} MB): {len(lines)} files with their SHA-256.")
    print(f"on each lab machine: python -m lenet_utils prepare --from-bundle {args.file.name}")


def _release_assets(args: argparse.Namespace) -> None:
    """`release-assets`: copy the book's checkpoints into OUT and record their digests."""
    copies = write_release_assets(args.out, args.digests, args.data_dir)
    sizes = [path.stat().st_size for path in copies]
    for path, size in zip(copies, sizes, strict=True):
        print(f"{path}: {size:,} bytes")
    print(f"{len(copies)} checkpoints, {sum(sizes):,} bytes in all; their digests are in {args.digests}.")
    print("upload every file of that folder to the release of the tag the install cells name.")


def _path(text: str) -> Path:
    """Argparse type for an output path: not empty, which would mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


_path.__name__ = "path"


def main(argv: list[str] | None = None) -> int:
    """Run `bundle` or `release-assets`; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m booktools.release", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("bundle", help="write the data and the chapters' checkpoints into one .tar.gz")
    p.add_argument("file", type=_path, help="the bundle to write, e.g. _build/lenet-room.tar.gz")
    p.set_defaults(run=_bundle)
    p = commands.add_parser("release-assets", help="copy the chapters' checkpoints for a release, record digests")
    p.add_argument("out", type=_path, help="folder to copy the checkpoints into")
    p.add_argument("--digests", type=_path, default=DIGESTS_FILE, help="digests file to write (default: %(default)s)")
    p.set_defaults(run=_release_assets)
    for p in commands.choices.values():
        p.add_argument("--data-dir", default=None, help="folder holding the four Fashion-MNIST IDX files")
    args = parser.parse_args(argv)
    with sigterm_as_interrupt():  # a stop by the system leaves no temporary file, as Ctrl-C does
        try:
            args.run(args)
        except LenetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"error: interrupted before {args.command} finished; no file is half written.", file=sys.stderr)
            return 130
        except MemoryError:
            print(f"error: ran out of memory; close other programs and run {args.command} again.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
