"""Write an edition into a folder that may hold other people's work: only files the generator wrote are replaced.

The folder is never emptied. Each file written is recorded with its SHA-256 in the folder's manifest
(`.edition.json`); a later run refuses to replace a file it did not write, a file changed since it
wrote it, or a symbolic link, and removes only its own unchanged files of chapters that no longer exist.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path

MANIFEST = ".edition.json"
OLD_MANIFEST = ".student_version.json"  # what scripts/make_student_version.py wrote: its files stay ours


class OutputError(Exception):
    """The output folder cannot take the edition without replacing what is not the generator's own."""


def sha256(path: Path) -> str:
    """The SHA-256 of the file at `path`."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def owned_files(target: Path) -> dict[str, str]:
    """The files an earlier run wrote into `target`, with their SHA-256, from its manifest."""
    for name in (MANIFEST, OLD_MANIFEST):
        manifest = target / name
        if manifest.is_symlink():
            raise OutputError(f"{manifest} is a symbolic link; remove it, the generator never writes through links")
        if not manifest.exists():
            continue
        try:
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
            if not all(isinstance(file, str) and isinstance(digest, str) for file, digest in files.items()):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OutputError(f"{manifest} is not a manifest the generator wrote; move it away and run again") from exc
        return files
    return {}


def check_target(sources: list[Path], target: Path, names: list[str]) -> dict[str, str]:
    """Refuse a folder where writing `names` would replace what is not the generator's own; return its files."""
    if target.is_symlink():
        raise OutputError(f"{target} is a symbolic link; give a real folder, nothing is written through links")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} exists and is not a folder; choose another output folder")
    for folder in {source.resolve() for source in sources}:
        if target.resolve() == folder or folder in target.resolve().parents:
            raise OutputError(
                f"{target} is inside the book's sources {folder}, where the site and the tests would take the "
                "copies for chapters; choose a folder outside it"
            )
    owned = owned_files(target) if target.exists() else {}
    for name in names:
        path = target / name
        if path.is_symlink():
            raise OutputError(f"{path} is a symbolic link; remove it or choose another output folder")
        if path.exists() and name not in owned:
            raise OutputError(
                f"{path} exists and the generator did not write it (it is not in {MANIFEST}); "
                "move it away or choose another output folder"
            )
        if path.exists() and (not path.is_file() or sha256(path) != owned[name]):
            raise OutputError(f"{path} was changed since the generator wrote it; move it away and run again")
    return owned


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` to a new file next to `path`, then rename it over `path`: a link there is replaced, not followed."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # the mode a plain open() gives, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_files(sources: list[Path], target: Path, files: dict[str, bytes]) -> list[str]:
    """Write `files` (name -> bytes) into `target`, refusing what is not ours; return stale files removed."""
    owned = check_target(sources, target, list(files))
    try:
        target.mkdir(parents=True, exist_ok=True)

        def save() -> None:
            """Record what the generator owns now, after each change, so an interrupted run leaves a true record."""
            record = {"written_by": "booktools (python -m booktools)", "files": owned}
            replace_file(target / MANIFEST, json.dumps(record, indent=1, sort_keys=True).encode() + b"\n")
            (target / OLD_MANIFEST).unlink(missing_ok=True)

        for name, data in files.items():
            replace_file(target / name, data)
            owned[name] = hashlib.sha256(data).hexdigest()
            save()
        removed = []
        for name in sorted(set(owned) - set(files)):  # an old chapter's notebook would still hold what it held
            path = target / name
            if path.is_file() and not path.is_symlink() and sha256(path) == owned[name]:
                path.unlink()
                removed.append(name)
            del owned[name]  # changed or gone: no longer ours
            save()
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise OutputError(
                f"no space left on the device of {target}; free some space or choose another folder"
            ) from exc
        raise OutputError(f"cannot write into {target}: {exc.strerror or exc}") from exc
    return removed
