"""The book's trained weights as release assets: their digests and fetching them (booktools.release writes them).

`released_weights.json` (package data) maps each checkpoint's file name to the SHA-256 digest and size of the
file the release holds. A download is used only when it matches, so neither a broken mirror nor a changed
release can put other weights into a reader's model.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from . import __version__
from .checkpoint import sha256_hex
from .errors import SettingError

WEIGHTS_URL_ENV = "LENET_WEIGHTS_URL"
RELEASE_URL = "https://github.com/lenet-book/lenet5-fashion-mnist/releases/download/v{version}"
DIGESTS_FILE = Path(__file__).with_name("released_weights.json")
TIMEOUT_SECONDS = 20  # for connecting and for each read: a reader offline waits this long at most, once
DEADLINE_SECONDS = 60  # for a whole download, however slowly a server sends: a checkpoint is under 1 MB
CHUNK = 1 << 16


def release_url() -> str | None:
    """Where the released checkpoints are: $LENET_WEIGHTS_URL, else this version's GitHub release; None if off."""
    value = os.environ.get(WEIGHTS_URL_ENV, "").strip()
    if value.lower() == "off":
        return None
    url = value or RELEASE_URL.format(version=__version__)
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an address that cannot be parsed, such as http://[::1
        parts = None
    if parts is None or parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.scheme == "file"):
        raise SettingError(
            f"{WEIGHTS_URL_ENV}={value!r} is not understood; set it to off, or to the http://, https:// or file:// "
            "address of a folder of released weights."
        )
    return url.rstrip("/")


def released_weights() -> dict[str, dict]:
    """File name -> {"sha256": hex digest, "bytes": size} of every checkpoint the release holds."""
    return json.loads(DIGESTS_FILE.read_text(encoding="utf-8"))


_unreachable: dict[str, str] = {}  # release address -> why it could not be reached, so a session offline waits once


class _TooSlow(Exception):
    """The whole download took longer than DEADLINE_SECONDS."""


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
        if 300 <= exc.code < 400:  # urllib's own message for a loop runs over three lines
            return None, f"{address} redirected in a loop (HTTP {exc.code})"
        return None, f"{address} answered HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        _unreachable[url] = f"{url} could not be reached ({getattr(exc.reason, 'strerror', None) or exc.reason})"
        return None, _unreachable[url]
    except TimeoutError:
        _unreachable[url] = f"{url} did not answer within {TIMEOUT_SECONDS} s"
        return None, _unreachable[url]
    except _TooSlow:
        _unreachable[url] = f"{url} sent too slowly to finish a download within {DEADLINE_SECONDS} s"
        return None, _unreachable[url]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"the download from {address} failed ({exc})"
    if data is None:
        return None, f"{address} sent more than the {expected['bytes']:,} bytes released"
    if len(data) < expected["bytes"]:
        return None, f"{address} stopped after {len(data):,} of the {expected['bytes']:,} bytes released"
    if sha256_hex(data) != expected["sha256"]:
        return None, f"{address} sent a file whose SHA-256 digest is not the released one"
    return data, address


def _read_at_most(request: urllib.request.Request, size: int) -> bytes | None:
    """The body of `request`, or None if it is longer than `size` bytes; _TooSlow after DEADLINE_SECONDS in all.

    A thread downloads, waited for until the deadline: a server sending a byte now and then (headers too) resets
    the timeout of every read, so only a deadline outside the reads bounds the wait.
    """
    deadline = time.monotonic() + DEADLINE_SECONDS
    outcome: list = []

    def fetch() -> None:
        try:
            parts, total = [], 0
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                while total <= size and time.monotonic() < deadline and (chunk := response.read1(CHUNK)):
                    parts.append(chunk)
                    total += len(chunk)
            outcome.append(b"".join(parts))
        except BaseException as exc:  # raised again in the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=fetch, daemon=True)  # abandoned at the deadline, it ends at its next read
    worker.start()
    worker.join(DEADLINE_SECONDS)
    if worker.is_alive() or time.monotonic() >= deadline:
        raise _TooSlow
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return None if len(outcome[0]) > size else outcome[0]
