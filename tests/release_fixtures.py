"""Fixtures of the released weights' tests: a real HTTP server on 127.0.0.1, a released checkpoint, a spy on training.

The test modules import them by name (``from release_fixtures import ...``).
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest
import torch

import lenet_utils.cache as cache_module
import lenet_utils.release as release
from lenet_utils import TrainConfig, __version__, train_or_load
from lenet_utils.checkpoint import sha256_hex

SMALL = TrainConfig(epochs=2, batch_size=50)  # 4 batches per epoch on the synthetic data


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path):
    """A real HTTP server on 127.0.0.1 serving a folder: yields (its URL, the folder)."""
    folder = tmp_path / "site" / f"v{__version__}"  # as a GitHub release's assets sit under the tag's name
    folder.mkdir(parents=True)
    handler = functools.partial(QuietHandler, directory=folder.parent)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v{__version__}", folder
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which release addresses could not be reached, as a new Python session does."""
    monkeypatch.setattr(release, "_unreachable", {})


@pytest.fixture
def digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty released_weights.json of this test's own, in place of the package's."""
    path = tmp_path / "released_weights.json"
    path.write_text("{}\n")
    monkeypatch.setattr(release, "DIGESTS_FILE", path)
    return path


@pytest.fixture
def reference(synthetic_data, tmp_path, cpu, digests) -> Path:
    """SMALL trained once, as the reference run would, and released: its checkpoint file, listed in `digests`."""
    folder = tmp_path / "reference-cache"
    train_or_load(SMALL, synthetic_data, cpu, directory=folder)
    path = SMALL.checkpoint_path(synthetic_data, folder)
    digests.write_text(json.dumps({path.name: {"sha256": sha256_hex(path.read_bytes()), "bytes": path.stat().st_size}}))
    return path


@pytest.fixture
def published(server, reference, monkeypatch) -> Path:
    """The reference checkpoint on the local server, with LENET_WEIGHTS_URL pointing there: the served file."""
    url, folder = server
    monkeypatch.setenv("LENET_WEIGHTS_URL", url)
    return Path(shutil.copy(reference, folder / reference.name))


@pytest.fixture
def trains(monkeypatch) -> list[TrainConfig]:
    """Record every configuration actually trained (and still train it)."""
    trained: list[TrainConfig] = []
    real = cache_module.train

    def spy(config, *args, **kwargs):
        trained.append(config)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(cache_module, "train", spy)
    return trained


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
