"""Shared fixtures for the lenet_utils tests.

Three kinds of data appear in the tests:

* tiny synthetic IDX files written to ``tmp_path`` (``write_idx``, ``idx_dir``), to test the readers;
* a small, easily learnable synthetic data set (``synthetic_data``), to test training quickly;
* the real Fashion-MNIST (``real_splits``, ``real_data``), for the tests marked ``real_data``.
  Those are never skipped: CI installs Debian's dataset-fashion-mnist, so missing data must fail.

No unit test touches the shared checkpoint cache: ``LENET_CACHE`` points at a temporary folder of each
test module, and tests that need an empty cache of their own use the ``cache`` fixture. (The run of the
chapters' Colab edition, tests/booktools/test_colab_run.py, uses the shared cache on purpose.)
"""

from __future__ import annotations

import gzip
import shutil
import struct
import tempfile
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets
from site_fixtures import CHROMEDRIVER, CHROMIUM, SITE_DIR, WINDOW, require_site, serve
from torch.utils.data import TensorDataset

import lenet_utils.data as data_module
import lenet_utils.locate as locate_module
from lenet_utils import DataSplits, lenet5, load_fashion_mnist, load_split, make_loader
from lenet_utils.data import normalize, pixel_stats

IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
# Sizes of the synthetic "train" and "test" splits (the real ones are 60,000 and 10,000).
TINY_SPLIT_SIZES = {"train": 60, "test": 20}


def pytest_configure(config: pytest.Config) -> None:
    # The tests use tiny tensors: one thread is as fast, and far faster on a busy machine, where
    # several threads of each process would wait on each other.
    torch.set_num_threads(1)
    config.addinivalue_line(
        "markers", "real_data: uses the real Fashion-MNIST (never skipped; deselect with -m 'not real_data')"
    )
    config.addinivalue_line(
        "markers",
        "slow: trains on real data, needs the built site, starts a Python process that loads PyTorch, a "
        "kernel or a browser, or takes over a second (make test-fast deselects it)",
    )


# Fixtures that make a test slow wherever it uses them: the real data set, the built site in a browser.
SLOW_FIXTURES = frozenset({"real_data", "real_splits", "browser", "site_url"})


def needs_the_built_site(item: pytest.Item) -> bool:
    """The site tests (tests/site/, tests/test_site*.py) read what `make book` built, minutes of work."""
    return item.path.parent.name == "site" or item.path.name.startswith("test_site")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test on real data, on the built site or with a slow fixture: the fast tier skips them."""
    for item in items:
        uses_slow_fixture = bool(SLOW_FIXTURES & set(getattr(item, "fixturenames", ())))
        if uses_slow_fixture or item.get_closest_marker("real_data") or needs_the_built_site(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep every test module away from the shared cache, in a folder of its own."""
    folder = tmp_path_factory.mktemp("lenet-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LENET_CACHE", str(folder))
        yield folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty LENET_CACHE of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("LENET_CACHE", str(folder))
    return folder


# --------------------------------------------------------------------------- synthetic images


def synthetic_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return `n` uint8 28×28 images and balanced labels 0-9; class k shows a bright block at its own place.

    Dim noise in the background makes every image different; the block makes the task learnable in
    a couple of epochs, so training tests can check that something was learned.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels, strict=True):
        row, col = divmod(int(label), 5)
        image[2 + 12 * row : 12 + 12 * row, 1 + 5 * col : 6 + 5 * col] = 255
    return images, labels.astype(np.uint8)


def idx_bytes(array: np.ndarray, magic: int | None = None, count: int | None = None) -> bytes:
    """Encode a uint8 array (N,28,28) or (N,) as an IDX file; `magic`/`count` override the header."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else (IMAGE_MAGIC if array.ndim == 3 else LABEL_MAGIC)
    header = struct.pack(">II", magic, len(array) if count is None else count)
    if array.ndim == 3:
        header += struct.pack(">II", *array.shape[1:])
    return header + array.tobytes()


def write_bytes(path: Path, payload: bytes) -> Path:
    """Write `payload` to `path`, gzipped when the name ends in .gz."""
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)
    return path


@pytest.fixture
def write_idx():
    """``write_idx(path, array, magic=None, count=None)`` writes an IDX file (gzipped if path ends in .gz)."""

    def write(path: Path, array: np.ndarray, magic: int | None = None, count: int | None = None) -> Path:
        return write_bytes(path, idx_bytes(array, magic, count))

    return write


@pytest.fixture
def tiny_split_sizes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Make the loaders expect the tiny synthetic split sizes instead of 60,000 and 10,000."""
    for split, size in TINY_SPLIT_SIZES.items():
        monkeypatch.setitem(data_module.SPLIT_SIZES, split, size)
    return TINY_SPLIT_SIZES


IDX_NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


@pytest.fixture(params=["plain", "gz"])
def idx_dir(request: pytest.FixtureRequest, tmp_path: Path, tiny_split_sizes: dict[str, int]) -> Path:
    """A folder with the four IDX files of a tiny synthetic Fashion-MNIST, plain or gzipped."""
    folder = tmp_path / f"idx-{request.param}"
    folder.mkdir()
    suffix = ".gz" if request.param == "gz" else ""
    for seed, (split, size) in enumerate(tiny_split_sizes.items()):
        images, labels = synthetic_images(size, seed)
        write_bytes(folder / (IDX_NAMES[split, "images"] + suffix), idx_bytes(images))
        write_bytes(folder / (IDX_NAMES[split, "labels"] + suffix), idx_bytes(labels))
    return folder


@pytest.fixture(scope="session")
def synthetic_data() -> DataSplits:
    """A small learnable stand-in for Fashion-MNIST: 200 train, 100 validation and 100 test images."""
    splits = {
        "train": synthetic_images(200, seed=1),
        "val": synthetic_images(100, seed=2),
        "test": synthetic_images(100, seed=3),
    }
    mean, std = pixel_stats(torch.from_numpy(splits["train"][0]))
    datasets = {
        name: TensorDataset(normalize(torch.from_numpy(images), mean, std), torch.from_numpy(labels).long())
        for name, (images, labels) in splits.items()
    }
    return DataSplits(**datasets, mean=mean, std=std, split_seed=0)


# --------------------------------------------------------------------------- offline, no data


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """No Fashion-MNIST anywhere and no network: empty Debian dir and cache, failing download.

    Returns the list of keyword arguments torchvision was called with, to check a download was tried.
    """
    monkeypatch.delenv(locate_module.DATA_ENV, raising=False)
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / "empty-cache"))
    empty = tmp_path / "no-debian-package"
    empty.mkdir()
    monkeypatch.setattr(locate_module, "DEBIAN_DIR", empty)
    attempts: list[dict] = []

    def no_network(*args, **kwargs):
        attempts.append(kwargs)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", no_network)
    return attempts


# --------------------------------------------------------------------------- the real data


@pytest.fixture(scope="session")
def real_splits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The real raw splits, found the way a reader's machine finds them (no data_dir)."""
    return {split: load_split(split) for split in ("train", "test")}


@pytest.fixture(scope="session")
def real_data() -> DataSplits:
    """The real Fashion-MNIST, split and normalized with the book's defaults."""
    return load_fashion_mnist()


@pytest.fixture
def make_images():
    """``make_images(n, seed=0)`` returns n synthetic uint8 images (n,28,28) and their labels."""
    return synthetic_images


@pytest.fixture
def explains_how_to_get_data():
    """``explains_how_to_get_data(text)`` is true when text names the three ways to provide the data."""

    def check(text: str) -> bool:
        ways = ("FASHION_MNIST_DIR", "dataset-fashion-mnist", "internet")
        return all(way in text for way in ways)

    return check


# --------------------------------------------------------------------------- models and loaders


@pytest.fixture
def cpu() -> torch.device:
    return torch.device("cpu")


@pytest.fixture
def model() -> torch.nn.Sequential:
    """A freshly initialized tanh LeNet-5, the same weights in every test."""
    torch.manual_seed(0)
    return lenet5("tanh")


@pytest.fixture
def train_loader(synthetic_data: DataSplits):
    """The synthetic training images in seeded shuffled batches of 75 (the last batch holds 50)."""
    return make_loader(synthetic_data.train, batch_size=75, shuffle=True, seed=0)


@pytest.fixture
def val_loader(synthetic_data: DataSplits):
    return make_loader(synthetic_data.val, batch_size=50)


# --------------------------------------------------------------------------- the built site: server and browser
# (module scope: each site test module gets one server and one browser; helpers are in site_fixtures.py)


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    """The built site (_build/html) served on 127.0.0.1; its base URL.

    The pages are served over HTTP, not opened as file:// URLs, because the search page and the
    theme fetch files with JavaScript, which browsers refuse for file:// pages.
    """
    require_site()
    with serve(SITE_DIR) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for the whole module, with its console log recorded.

    Both binaries are given by path (Debian's, from `make system-browser`) and SE_OFFLINE tells
    Selenium Manager, Selenium's documented switch, never to download a driver or a browser.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.exists():
            pytest.fail(f"{binary} is missing; install Debian's chromium and chromium-driver (make system-browser)")
    profile = tempfile.mkdtemp(prefix="site-tests-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        # Every host except the test server fails to resolve, so a run behaves the same online and
        # offline and never fetches anything: the site must work from its own files.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
