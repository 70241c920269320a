"""The book's trained weights as release assets: their digests, fetching them, and writing them for a release.

`released_weights.json` (package data) maps each checkpoint's file name to the SHA-256 digest and size of the
file the release holds. A download is used only when it matches, so neither a broken mirror nor a changed
release can put other weights into a reader's model.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import __version__
from .checkpoint import sha256_hex, unseal, write_atomically

WEIGHTS_URL_ENV = "LENET_WEIGHTS_URL"
RELEASE_URL = "https://github.com/lenet-book/lenet5-fashion-mnist/releases/download/v{version}"
DIGESTS_FILE = Path(__file__).with_name("released_weights.json")
TIMEOUT_SECONDS = 20  # for connecting and for each read: a reader offline waits this long at most, once
CHUNK = 1 << 16


def release_url() -> str | None:
    """Where the released checkpoints are: $LENET_WEIGHTS_URL, else this version's GitHub release; None if off."""
    url = os.environ.get(WEIGHTS_URL_ENV, "").strip() or RELEASE_URL.format(version=__version__)
    return None if url.lower() == "off" else url.rstrip("/")


def released_weights() -> dict[str, dict]:
    """File name -> {"sha256": hex digest, "bytes": size} of every checkpoint the release holds."""
    return json.loads(DIGESTS_FILE.read_text(encoding="utf-8"))


_unreachable: dict[str, str] = {}  # release address -> why it could not be reached, so a session offline waits once


def download(name: str) -> tuple[bytes | None, str]:
    """The released checkpoint `name`, verified, and where it came from; or None and why not ("" if fetching is off)."""
    url = release_url()
    if url is None:  # the reader (or the reference run) turned fetching off: nothing to explain
        return None, ""
    expected = released_weights().get(name)
    if expected is None:
        return None, f"the book's release has no weights for {name} (lenet_utils {__version__})"
    if url in _unreachable:
        return None, f"{_unreachable[url]}, a moment ago"
    address = f"{url}/{name}"
    request = urllib.request.Request(address, headers={"User-Agent": f"lenet_utils/{__version__}"})
    try:
        data = _read_at_most(request, expected["bytes"])
    except urllib.error.HTTPError as exc:
        return None, f"{address} answered HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        _unreachable[url] = f"{url} could not be reached ({getattr(exc.reason, 'strerror', None) or exc.reason})"
        return None, _unreachable[url]
    except TimeoutError:
        _unreachable[url] = f"{url} did not answer within {TIMEOUT_SECONDS} s"
        return None, _unreachable[url]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"the download from {address} failed ({exc})"
    if data is None:
        return None, f"{address} sent more than the {expected['bytes']:,} bytes released"
    if sha256_hex(data) != expected["sha256"]:
        return None, f"{address} sent a file whose SHA-256 digest is not the released one"
    return data, address


def _read_at_most(request: urllib.request.Request, size: int) -> bytes | None:
    """The body of `request`, or None if it is longer than `size` bytes; stops after a few timeouts in all."""
    deadline = time.monotonic() + 3 * TIMEOUT_SECONDS
    parts, total = [], 0
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        while chunk := response.read(CHUNK):
            parts.append(chunk)
            total += len(chunk)
            if total > size:
                return None
            if time.monotonic() > deadline:
                raise TimeoutError
    return b"".join(parts)


def write_release_assets(names: list[str], cache: Path, out: Path, digests: Path | None = None) -> int:
    """Copy the checkpoints `names` from `cache` into `out` and record their digests in `digests`; total bytes."""
    out.mkdir(parents=True, exist_ok=True)
    released = {}
    for name in names:
        data = (cache / name).read_bytes()
        unseal(data, cache / name)  # only a checkpoint that verifies may be released
        write_atomically(out / name, data)
        released[name] = {"sha256": sha256_hex(data), "bytes": len(data)}
    write_atomically(digests or DIGESTS_FILE, (json.dumps(released, indent=2, sort_keys=True) + "\n").encode())
    return sum(entry["bytes"] for entry in released.values())
