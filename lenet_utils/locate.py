"""Finding the Fashion-MNIST files: a folder you name, torchvision's cache, Debian's package, or a download.

A place that cannot be looked into (no permission, a name too long, a file where a folder should be) is
"not here" when the lookup chose it, and an error when you named it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import CacheError, DataUnavailableError
from .idx import all_idx_names
from .paths import CACHE_ENV, cache_dir, unwritable_reason

DATA_ENV = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# Neutral about where it is read: a notebook passes data_dir, the command line --data-dir.
LOCAL_WAYS = (
    f"name a folder holding the four IDX files (data_dir, --data-dir or {DATA_ENV}), "
    "install Debian's package dataset-fashion-mnist"
)
HOW_TO_PROVIDE = f"{LOCAL_WAYS}, or connect to the internet so torchvision can download it"
DOWNLOAD_BYTES = 90 * 2**20  # torchvision keeps the 30 MB of .gz files and the 55 MB it unpacks from them


def torchvision_root() -> Path:
    """Return the root that torchvision downloads into (its files land in FashionMNIST/raw)."""
    return cache_dir() / "data"


def _status(path: Path) -> str:
    """'folder', 'file', 'missing', 'other', or why `path` cannot be looked at (e.g. 'Permission denied')."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a file stands where a parent folder would
        return "missing"
    except OSError as exc:  # EACCES, ENAMETOOLONG, ELOOP: nothing usable here, and the error says why
        return exc.strerror or type(exc).__name__
    return "folder" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def idx_copies(folder: Path) -> tuple[dict[str, list[Path]], str | None]:
    """The copies (plain, .gz) of each IDX file present in `folder`, or why the folder cannot be looked into."""
    status = _status(folder)
    if status != "folder":
        return {}, {"missing": "it does not exist", "file": "it is a file", "other": "it is not a folder"}.get(
            status, status
        )
    copies: dict[str, list[Path]] = {}
    for name in all_idx_names():
        copies[name] = []
        for path in (folder / name, folder / f"{name}.gz"):
            status = _status(path)
            if status == "file":
                copies[name].append(path)
            elif status in ("folder", "other"):
                return {}, f"{path.name} is {'a folder' if status == 'folder' else 'not a regular file'}"
            elif status != "missing":
                return {}, status
    return copies, None


def _readable(paths: list[Path]) -> str | None:
    """Why one of `paths` cannot be opened for reading, or None when all can."""
    for path in paths:
        try:
            os.close(os.open(path, os.O_RDONLY))
        except OSError as exc:
            return f"{path.name}: {exc.strerror}"
    return None


def _explicit(data_dir: str | os.PathLike | None) -> tuple[Path, str] | None:
    """The folder named by the caller or by $FASHION_MNIST_DIR (an empty variable counts as unset), and its label."""
    if data_dir is not None and not os.fspath(data_dir):
        raise DataUnavailableError(f"the data folder's name is empty; {HOW_TO_PROVIDE}.")
    name, named_by = (data_dir, "") if data_dir is not None else (os.environ.get(DATA_ENV), f" (named by {DATA_ENV})")
    if not name:
        return None
    try:
        path = Path(name).expanduser()
    except RuntimeError:  # no HOME, and an account the password database does not know
        raise DataUnavailableError(
            f"{os.fspath(name)}{named_by} starts with ~ but no home folder is known (HOME is unset); "
            "give the folder's full path."
        ) from None
    return path, f"{path}{named_by}"


def find_data_dir(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Locate the IDX files: explicit dir or $FASHION_MNIST_DIR, torchvision cache, Debian, download."""
    explicit = _explicit(data_dir)
    if explicit:
        path, named = explicit
        copies, problem = idx_copies(path)
        if problem in ("it does not exist", "it is a file", "it is not a folder"):
            raise DataUnavailableError(f"{named} is not a folder; {HOW_TO_PROVIDE}.")
        if problem:
            raise DataUnavailableError(f"{named} cannot be looked into ({problem}); {HOW_TO_PROVIDE}.")
        missing = [name for name, found in copies.items() if not found]
        if missing:
            raise DataUnavailableError(f"{named} lacks {', '.join(missing)} (plain or .gz); {HOW_TO_PROVIDE}.")
        return path
    skipped: list[str] = []  # places that could not be looked into, named in the final error
    try:
        root: Path | None = torchvision_root()
        candidates = [root / "FashionMNIST" / "raw", DEBIAN_DIR]
    except CacheError as exc:
        root, candidates = None, [DEBIAN_DIR]
        skipped.append(f"the download cache ({str(exc).rstrip('.')})")
    for candidate in candidates:
        copies, problem = idx_copies(candidate)
        if problem == "it does not exist" or (not problem and not all(copies.values())):
            continue
        problem = problem or _readable([path for found in copies.values() for path in found])
        if not problem:
            return candidate
        skipped.append(f"{candidate} ({problem})")
    not_here = "Fashion-MNIST is not on this machine" + (f" (skipped: {'; '.join(skipped)})" if skipped else "")
    if download and root is not None:
        problem = unwritable_reason(root, DOWNLOAD_BYTES)
        if problem:
            raise DataUnavailableError(
                f"{not_here} and cannot be downloaded into {root} ({problem}); set {CACHE_ENV} to a writable "
                f"folder, or {LOCAL_WAYS}."
            )
        try:
            from torchvision.datasets import FashionMNIST

            for train in (True, False):
                FashionMNIST(root=str(root), train=train, download=True)
        except Exception as exc:  # any network, checksum or disk failure means "not available here"
            disk = isinstance(exc, OSError) and exc.filename and exc.strerror  # a full disk, named with its folder
            reason = f"{exc.strerror} in {root}" if disk else type(exc).__name__
            message = f"{not_here} and could not be downloaded ({reason}); {HOW_TO_PROVIDE}."
            raise DataUnavailableError(message) from None
        copies, _ = idx_copies(root / "FashionMNIST" / "raw")
        if copies and all(copies.values()):
            return root / "FashionMNIST" / "raw"
    raise DataUnavailableError(f"{not_here}; {HOW_TO_PROVIDE}.")
