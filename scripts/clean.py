"""Remove what the build made and nothing else: `python3 scripts/clean.py --build _build --edition student`.

A build folder (`--build`) belongs to the build entirely and is removed whole; a link there is removed,
never followed. An edition folder (`--edition`) may hold a teacher's own files next to the generated ones:
only the files its manifest lists (`.edition.json`, or `.student_version.json` of the older student script,
`{"files": {name: sha256}}`) and that are unchanged since they were written are removed, then the manifest,
then the folder if nothing else is left. Standard library only, so it runs before the virtual environment
exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

MANIFESTS = (".edition.json", ".student_version.json")


class CleanError(Exception):
    """Something in a folder makes it unsafe to decide what to remove."""


def remove_build(folder: Path) -> str | None:
    """Remove a build output folder whole (a link: the link only); return what was done, or None if absent."""
    if folder.is_symlink() or folder.is_file():
        what = "the link" if folder.is_symlink() else "the file"
        folder.unlink()
        return f"{folder}: removed {what}"
    if not folder.exists():
        return None
    handler = {"onexc": _cannot_remove} if sys.version_info >= (3, 12) else {"onerror": _cannot_remove}
    shutil.rmtree(folder, **handler)
    return f"{folder}: removed"


def _cannot_remove(function: object, path: str, error: BaseException | tuple) -> None:
    """Stop a removal at the first file that cannot go, naming it (rmtree's own error names only its last part)."""
    exc = error[1] if isinstance(error, tuple) else error
    raise CleanError(f"cannot remove {path} ({getattr(exc, 'strerror', None) or exc}); the rest was left as it is")


def owned_files(folder: Path) -> tuple[Path | None, dict[str, str]]:
    """The manifest of an edition folder and the files it lists with their SHA-256 ({} when there is none)."""
    for name in MANIFESTS:
        manifest = folder / name
        if manifest.is_symlink():
            raise CleanError(f"{manifest} is a symbolic link; remove it by hand, nothing is removed through links")
        if manifest.is_file():
            try:
                files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
                if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                raise CleanError(f"{manifest} is not a generator's manifest; remove the folder by hand") from None
            return manifest, files
    return None, {}


def _inside(folder: Path, name: str) -> Path | None:
    """`folder / name` when `name` is a plain relative path that stays inside `folder`, else None."""
    relative = Path(name)
    if relative.is_absolute() or not relative.parts or ".." in relative.parts:
        return None
    return folder / relative


def _sha256(path: Path) -> str:
    """The SHA-256 of the file at `path`."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def remove_edition(folder: Path) -> list[str]:
    """Remove the unchanged files an edition's generator wrote into `folder`; return what was done and kept."""
    if folder.is_symlink():
        raise CleanError(f"{folder} is a symbolic link; remove it by hand, nothing is removed through links")
    if not folder.is_dir():
        return []
    manifest, files = owned_files(folder)
    if manifest is None:
        return [f"{folder}: kept, it holds no manifest of a generator ({' or '.join(MANIFESTS)})"]
    done, kept = [], []
    for name, digest in sorted(files.items()):
        path = _inside(folder, name)
        if path is None or path.is_symlink() or not path.is_file():
            continue  # gone, replaced by a folder or a link, or a name outside the folder: not the generator's now
        if _sha256(path) != digest:
            kept.append(name)
            continue
        path.unlink()
        for parent in path.parents:  # folders the generator made for its files, once they are empty
            if parent == folder or not parent.is_relative_to(folder) or any(parent.iterdir()):
                break
            parent.rmdir()
    manifest.unlink()
    if any(folder.iterdir()):
        others = sorted(path.name for path in folder.iterdir())
        done.append(f"{folder}: removed the generated files, kept {', '.join(others)}")
    else:
        folder.rmdir()
        done.append(f"{folder}: removed")
    return done + [f"{folder / name}: kept, changed since it was written" for name in kept]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, action="append", default=[], help="a build output folder, e.g. _build")
    parser.add_argument("--edition", type=Path, action="append", default=[], help="an edition folder, e.g. student")
    args = parser.parse_args(argv)
    try:
        lines = [line for folder in args.build if (line := remove_build(folder))]
        for folder in args.edition:
            lines += remove_edition(folder)
    except CleanError as exc:
        print(f"clean: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a folder of someone else's, a read-only disk: name the file and the reason
        print(
            f"clean: error: cannot remove {exc.filename} ({exc.strerror}); the rest was left as it is",
            file=sys.stderr,
        )
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
