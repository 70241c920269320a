"""The book's released weights: fetching them from a real local HTTP server, writing the release, a room's bundle."""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import lenet_utils
import lenet_utils.experiment as experiment
import lenet_utils.release as release
import lenet_utils.room as room
from lenet_utils import TrainConfig, __version__, train_or_load
from lenet_utils.book_models import ABLATION_STEPS, ablation_configs, book_models
from lenet_utils.checkpoint import sha256_hex
from lenet_utils.cli import main
from lenet_utils.errors import CheckpointRefusedWarning

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
    real = experiment.train

    def spy(config, *args, **kwargs):
        trained.append(config)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(experiment, "train", spy)
    return trained


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# --------------------------------------------------------------------------- where the release is


def test_the_release_is_this_versions_github_release_by_default(monkeypatch):
    monkeypatch.delenv("LENET_WEIGHTS_URL", raising=False)
    assert release.release_url() == (
        f"https://github.com/lenet-book/lenet5-fashion-mnist/releases/download/v{__version__}"
    )


@pytest.mark.parametrize("value", ["off", "OFF", " off "])
def test_fetching_can_be_turned_off(monkeypatch, value):
    monkeypatch.setenv("LENET_WEIGHTS_URL", value)
    assert release.release_url() is None


def test_the_environment_names_another_release(monkeypatch):
    monkeypatch.setenv("LENET_WEIGHTS_URL", "file:///mnt/usb/weights/")
    assert release.release_url() == "file:///mnt/usb/weights"


def test_the_package_ships_its_digests_file():
    assert release.DIGESTS_FILE.name == "released_weights.json"
    assert isinstance(json.loads(release.DIGESTS_FILE.read_text()), dict)


# --------------------------------------------------------------------------- fetching


def test_a_released_checkpoint_is_downloaded_verified_and_used(
    synthetic_data, cache, cpu, published, reference, trains, capsys
):
    result = train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    out = capsys.readouterr().out
    assert out.startswith(f"downloaded the book's trained weights {reference.name} from http://127.0.0.1:")
    assert "(SHA-256 verified)" in out.splitlines()[0]
    assert trains == []
    assert result.from_cache
    assert SMALL.checkpoint_path(synthetic_data).read_bytes() == reference.read_bytes()
    reference_run = train_or_load(SMALL, synthetic_data, cpu, directory=reference.parent)
    assert same_weights(result.model, reference_run.model)


def test_a_valid_cached_checkpoint_is_used_without_asking_the_server(
    synthetic_data, cache, cpu, published, trains, capsys
):
    train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    published.unlink()  # a second download would now fail
    capsys.readouterr()
    assert train_or_load(SMALL, synthetic_data, cpu, fetch=True).from_cache
    assert capsys.readouterr().out.startswith("loaded the trained model from the checkpoint")


def fetch_fails(synthetic_data, cpu, trains, capsys) -> str:
    """Call train_or_load(fetch=True), check it trained and saved instead, and return the line that says why."""
    result = train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    assert trains == [SMALL]
    assert not result.from_cache
    assert result.history.epochs == 2
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache  # what was trained is cached as usual
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"training {SMALL.checkpoint_path(synthetic_data).name} here: ")
    return first


def test_a_file_missing_from_the_release_is_trained(synthetic_data, cache, cpu, published, trains, capsys):
    published.unlink()
    assert "answered HTTP 404" in fetch_fails(synthetic_data, cpu, trains, capsys)


def test_a_download_with_a_flipped_byte_is_refused_and_trained(synthetic_data, cache, cpu, published, trains, capsys):
    flip_a_byte(published)
    line = fetch_fails(synthetic_data, cpu, trains, capsys)
    assert line.endswith("sent a file whose SHA-256 digest is not the released one.")
    assert not list(cache.rglob("*.corrupt"))  # a bad download never reaches the cache


def test_a_download_longer_than_released_is_refused(synthetic_data, cache, cpu, published, trains, capsys):
    published.write_bytes(published.read_bytes() + b"more")
    assert "sent more than the" in fetch_fails(synthetic_data, cpu, trains, capsys)


def test_a_server_that_is_down_means_training(synthetic_data, cache, cpu, reference, trains, capsys, monkeypatch):
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LENET_WEIGHTS_URL", f"http://127.0.0.1:{port}/v1")
    assert "could not be reached (Connection refused)" in fetch_fails(synthetic_data, cpu, trains, capsys)


def test_a_server_that_never_answers_is_given_up(synthetic_data, cache, cpu, reference, trains, capsys, monkeypatch):
    with socket.socket() as silent:  # accepts connections (the backlog does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("LENET_WEIGHTS_URL", f"http://127.0.0.1:{silent.getsockname()[1]}/v1")
        monkeypatch.setattr(release, "TIMEOUT_SECONDS", 0.5)
        line = fetch_fails(synthetic_data, cpu, trains, capsys)
        started = time.monotonic()
        data, again = release.download(SMALL.checkpoint_path(synthetic_data).name)
    assert "did not answer within 0.5 s" in line
    assert data is None
    assert again.endswith("did not answer within 0.5 s, a moment ago")
    assert time.monotonic() - started < 0.2  # a session offline waits once, not once per model


def test_a_release_of_another_configuration_is_moved_aside_and_trained(
    synthetic_data, cache, cpu, published, digests, trains, capsys
):
    other = train_or_load(replace(SMALL, lr=0.5), synthetic_data, cpu, directory=published.parent / "other")
    assert not other.from_cache
    shutil.copy(replace(SMALL, lr=0.5).checkpoint_path(synthetic_data, published.parent / "other"), published)
    content = published.read_bytes()  # released under SMALL's name by mistake: its digest is the released one
    digests.write_text(json.dumps({published.name: {"sha256": sha256_hex(content), "bytes": len(content)}}))
    trains.clear()
    with pytest.warns(CheckpointRefusedWarning, match=r"another configuration \(differs in lr\); moved it aside"):
        result = train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    assert trains == [SMALL]
    assert not result.from_cache
    assert SMALL.checkpoint_path(synthetic_data).with_name(f"{published.name}.corrupt").read_bytes() == content


def test_a_download_that_cannot_be_saved_means_training(
    synthetic_data, cache, cpu, published, trains, capsys, monkeypatch
):
    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(experiment, "write_atomically", full)
    assert "could not be saved in" in fetch_fails(synthetic_data, cpu, trains, capsys)


def test_a_model_the_release_lacks_is_trained_without_asking(synthetic_data, cache, cpu, published, trains, capsys):
    published.unlink()  # were it asked, the server would answer 404
    config = replace(SMALL, seed=1)
    train_or_load(config, synthetic_data, cpu, fetch=True)
    assert trains == [config]
    assert "the book's release has no weights for" in capsys.readouterr().out.splitlines()[0]


def test_fetching_turned_off_trains_without_a_word(synthetic_data, cache, cpu, published, trains, capsys, monkeypatch):
    monkeypatch.setenv("LENET_WEIGHTS_URL", "off")  # as in the reference run, whose outputs the site shows
    result = train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    assert trains == [SMALL]
    assert not result.from_cache
    assert "training" not in capsys.readouterr().out


def test_without_fetch_nothing_is_downloaded(synthetic_data, cache, cpu, published, trains, capsys):
    train_or_load(SMALL, synthetic_data, cpu)
    assert trains == [SMALL]
    assert "download" not in capsys.readouterr().out


def test_a_flipped_byte_in_the_cache_is_refused_and_fetched_again(
    synthetic_data, cache, cpu, published, reference, trains, capsys
):
    train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    path = SMALL.checkpoint_path(synthetic_data)
    flip_a_byte(path)
    damaged = path.read_bytes()
    with pytest.warns(CheckpointRefusedWarning, match=r"moved it aside to .*\.pt\.corrupt and fetching it again\.$"):
        result = train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    assert result.from_cache
    assert trains == []
    assert path.read_bytes() == reference.read_bytes()
    assert path.with_name(f"{path.name}.corrupt").read_bytes() == damaged


# --------------------------------------------------------------------------- the release's assets


def test_release_assets_copy_the_checkpoints_and_record_their_digests(synthetic_data, cpu, tmp_path, digests):
    cache = tmp_path / "cache"
    train_or_load(SMALL, synthetic_data, cpu, directory=cache)
    name = SMALL.checkpoint_path(synthetic_data).name
    total = release.write_release_assets([name], cache, tmp_path / "assets")
    content = (cache / name).read_bytes()
    assert (tmp_path / "assets" / name).read_bytes() == content
    assert total == len(content)
    assert json.loads(digests.read_text()) == {name: {"sha256": sha256_hex(content), "bytes": len(content)}}


def test_an_unverified_checkpoint_is_never_released(synthetic_data, cpu, tmp_path, digests):
    cache = tmp_path / "cache"
    train_or_load(SMALL, synthetic_data, cpu, directory=cache)
    name = SMALL.checkpoint_path(synthetic_data).name
    flip_a_byte(cache / name)
    with pytest.raises(experiment.CheckpointMismatchError, match="does not match the SHA-256 digest"):
        release.write_release_assets([name], cache, tmp_path / "assets")
    assert json.loads(digests.read_text()) == {}


# --------------------------------------------------------------------------- the book's models


def test_the_book_models_are_the_chapters_configurations():
    models = book_models()
    assert list(models.values())[:2] == [TrainConfig("tanh"), TrainConfig("relu")]
    assert list(models.values())[2:] == ablation_configs()[1:]
    assert len({config.key(_FakeSplit()) for config in models.values()}) == len(models) == 9


def test_the_ablation_builds_each_step_on_the_one_before():
    configs = ablation_configs()
    assert len(configs) == len(ABLATION_STEPS)
    assert configs[0] == TrainConfig("relu", epochs=2)
    assert configs[-1] == TrainConfig(
        "relu", epochs=11, pool="max", batch_norm=True, act_after_conv2=True, flip=True, schedule="onecycle",
        lr=3e-3, widths=(32, 32, 64, 84),
    )  # fmt: skip


class _FakeSplit:
    def fingerprint(self) -> dict:
        return {"train": 55_000, "val": 5_000, "split_seed": 59}


# --------------------------------------------------------------------------- preparing a room


@pytest.fixture
def tiny_book(monkeypatch, synthetic_data) -> dict[str, TrainConfig]:
    """Make the book two tiny models trained on the synthetic data, so a room is prepared in seconds."""
    models = {"chapter 2: tanh": SMALL, "chapter 3: ReLU": replace(SMALL, activation="relu")}
    monkeypatch.setattr(room, "book_models", lambda: models)
    monkeypatch.setattr(room, "load_fashion_mnist", lambda data_dir=None: synthetic_data)
    return models


def test_prepare_obtains_every_model_and_says_how(tiny_book, synthetic_data, cache, capsys, monkeypatch):
    monkeypatch.setenv("LENET_WEIGHTS_URL", "off")
    assert main(["prepare", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "[1/2] chapter 2: tanh: trained in " in out
    assert "[2/2] chapter 3: ReLU: trained in " in out
    for config in tiny_book.values():
        assert config.checkpoint_path(synthetic_data).is_file()
    assert main(["prepare", "--device", "cpu"]) == 0
    assert "[1/2] chapter 2: tanh: in the cache\n" in capsys.readouterr().out


def test_prepare_never_touches_the_chapters(tiny_book, cache, monkeypatch):
    book = Path(__file__).parents[1] / "book"
    before = {path: path.stat().st_mtime_ns for path in book.iterdir()}
    monkeypatch.setenv("LENET_WEIGHTS_URL", "off")
    assert main(["prepare", "--device", "cpu"]) == 0
    assert {path: path.stat().st_mtime_ns for path in book.iterdir()} == before


def test_prepare_fetches_released_models(tiny_book, cache, published, capsys):
    assert main(["prepare", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "[1/2] chapter 2: tanh: downloaded\n" in out
    assert "[2/2] chapter 3: ReLU: trained in" in out


def make_bundle(tiny_book, idx_dir, tmp_path, monkeypatch) -> Path:
    """Prepare a tiny room in one cache and bundle it with the tiny IDX files: the bundle's path."""
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / "teacher-cache"))
    monkeypatch.setenv("LENET_WEIGHTS_URL", "off")
    assert main(["prepare", "--device", "cpu"]) == 0
    bundle = tmp_path / "room" / "lenet-room.tar.gz"
    assert main(["bundle", str(bundle), "--data-dir", str(idx_dir)]) == 0
    return bundle


def test_a_bundle_holds_the_data_the_checkpoints_and_their_digests(tiny_book, idx_dir, tmp_path, monkeypatch):
    bundle = make_bundle(tiny_book, idx_dir, tmp_path, monkeypatch)
    with tarfile.open(bundle) as tar:
        names = sorted(tar.getnames())
        sums = tar.extractfile("lenet-room/SHA256SUMS").read().decode().splitlines()
    data_files = sorted(f"lenet-room/fashion-mnist/{path.name}" for path in idx_dir.iterdir())
    assert len(data_files) == 4
    assert set(data_files) < set(names)
    assert len([name for name in names if name.startswith("lenet-room/checkpoints/lenet-")]) == 2
    assert len(sums) == len(names) - 1 == 6
    digest, name = sums[0].split("  ")
    assert digest == sha256_hex((idx_dir / name.split("/")[1]).read_bytes())


def test_a_bundle_installs_on_a_machine_without_internet(tiny_book, idx_dir, tmp_path, monkeypatch, capsys):
    bundle = make_bundle(tiny_book, idx_dir, tmp_path, monkeypatch)
    lab = tmp_path / "lab-cache"
    monkeypatch.setenv("LENET_CACHE", str(lab))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(experiment, "train", lambda *args, **kwargs: pytest.fail("trained on the lab machine"))
    monkeypatch.setattr(release.urllib.request, "urlopen", lambda *a, **k: pytest.fail("went to the internet"))
    capsys.readouterr()
    assert main(["prepare", "--from-bundle", str(bundle), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("(SHA-256 verified)") == 6
    assert "[2/2] chapter 3: ReLU: in the cache" in out
    from lenet_utils import find_data_dir

    assert find_data_dir(download=False) == lab / "data" / "FashionMNIST" / "raw"  # the chapters find the data


def rewrite_bundle(bundle: Path, change) -> None:
    """Rewrite `bundle` with change(name, content) -> (name, content) applied to every member."""
    with tarfile.open(bundle) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(bundle, "w:gz") as tar:
        for name, content in members:
            name, content = change(name, content)
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_a_damaged_bundle_installs_nothing(tiny_book, idx_dir, tmp_path, monkeypatch, capsys):
    bundle = make_bundle(tiny_book, idx_dir, tmp_path, monkeypatch)

    def flip(name, content):
        if "/checkpoints/" in name:
            content = content[:500] + bytes([content[500] ^ 1]) + content[501:]
        return name, content

    rewrite_bundle(bundle, flip)
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / "lab-cache"))
    assert main(["prepare", "--from-bundle", str(bundle)]) == 1
    assert "does not match its SHA-256 digest; copy the bundle again." in capsys.readouterr().err
    assert not (tmp_path / "lab-cache").exists()


def test_a_bundle_may_not_write_outside_the_cache(tiny_book, idx_dir, tmp_path, monkeypatch, capsys):
    bundle = make_bundle(tiny_book, idx_dir, tmp_path, monkeypatch)

    def escape(name, content):
        if name.endswith("SHA256SUMS"):
            content += f"{sha256_hex(b'x')}  ../../evil.py\n".encode()
        return name, content

    rewrite_bundle(bundle, escape)
    monkeypatch.setenv("LENET_CACHE", str(tmp_path / "lab-cache"))
    assert main(["prepare", "--from-bundle", str(bundle)]) == 1
    assert "which it lacks or may not install" in capsys.readouterr().err
    assert not (tmp_path / "lab-cache").exists()


def test_a_file_that_is_not_a_bundle_is_one_error(tmp_path, capsys):
    (tmp_path / "notes.tar.gz").write_text("hello")
    assert main(["prepare", "--from-bundle", str(tmp_path / "notes.tar.gz")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'notes.tar.gz'} cannot be read as a bundle")


def test_bundling_before_preparing_says_what_to_run(tiny_book, idx_dir, cache, tmp_path, capsys):
    assert main(["bundle", str(tmp_path / "room.tar.gz"), "--data-dir", str(idx_dir)]) == 1
    assert "is missing; run `python -m lenet_utils prepare` (make room) first." in capsys.readouterr().err
    assert not (tmp_path / "room.tar.gz").exists()


def test_release_assets_from_the_command_line(tiny_book, cache, tmp_path, digests, capsys, monkeypatch):
    monkeypatch.setenv("LENET_WEIGHTS_URL", "off")
    assert main(["prepare", "--device", "cpu"]) == 0
    assert main(["release-assets", str(tmp_path / "assets"), "--digests", str(digests)]) == 0
    assert len(json.loads(digests.read_text())) == 2 == len(list((tmp_path / "assets").iterdir()))
    assert "2 checkpoints, " in capsys.readouterr().out


# --------------------------------------------------------------------------- stopped by the system

# A child that prepares a tiny room whose first epoch waits, so SIGTERM arrives during training.
PREPARE_AND_WAIT = """
import sys, time
import torch
from torch.utils.data import TensorDataset
import lenet_utils.loop as loop
import lenet_utils.room as room
from lenet_utils import DataSplits, TrainConfig
from lenet_utils.cli import main

def dataset(n):
    return TensorDataset(torch.randn(n, 1, 28, 28), torch.arange(n) % 10)

data = DataSplits(dataset(100), dataset(50), dataset(50), mean=0.0, std=1.0, split_seed=0)
room.load_fashion_mnist = lambda data_dir=None: data
room.book_models = lambda: {"a": TrainConfig(epochs=1, batch_size=50), "b": TrainConfig("relu", epochs=2)}
real = loop.train_one_epoch

def train_one_epoch(model, loader, **kwargs):
    if any(isinstance(layer, torch.nn.ReLU) for layer in model.modules()):  # model "b": wait for the signal
        print("training", flush=True)
        time.sleep(60)
    return real(model, loader, **kwargs)

loop.train_one_epoch = train_one_epoch
sys.exit(main(["prepare", "--device", "cpu"]))
"""


@pytest.mark.slow
def test_sigterm_during_prepare_stops_cleanly_and_keeps_what_was_finished(tmp_path):
    env = {**os.environ, "LENET_CACHE": str(tmp_path / "cache"), "LENET_WEIGHTS_URL": "off", "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PREPARE_AND_WAIT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    for line in child.stdout:
        if line == "training\n":
            break
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGTERM, stderr
    assert "error: interrupted; the models finished so far are in the cache" in stderr
    assert "Traceback" not in stderr
    files = sorted(path.name for path in (tmp_path / "cache" / "checkpoints").iterdir())
    assert len(files) == 1
    assert files[0].startswith("lenet-tanh-")


def test_chapter_5_trains_the_ablation_that_book_models_lists():
    """Chapter 5's cell that builds `configs` gives the configurations `prepare` puts into the cache."""
    notebook = json.loads((Path(__file__).parents[1] / "book" / "05_beyond_the_original.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    cell = next(source for source in sources if re.search(r"^configs\b[^=\n]*=", source, re.MULTILINE))
    namespace = {name: getattr(lenet_utils, name) for name in lenet_utils.__all__} | {"replace": replace}
    exec(cell.replace("glue(", "(lambda *a, **k: None)("), namespace)  # the cell's own code, without the book's glue
    assert namespace["configs"][1:] == ablation_configs()[1:]
