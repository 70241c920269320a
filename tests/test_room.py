"""Preparing a room: the book's models in the cache, and installing a bundle, hostile ones too (lenet_utils.room)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from release_fixtures import SMALL

import booktools.release
import lenet_utils.cache as cache_module
import lenet_utils.release as release
import lenet_utils.room as room
from booktools.release import main as release_main
from lenet_utils import TrainConfig
from lenet_utils.checkpoint import sha256_hex
from lenet_utils.cli import main
from lenet_utils.errors import CacheError

pytest_plugins = ["release_fixtures"]  # the server, a released checkpoint, a spy on training


# --------------------------------------------------------------------------- preparing a room


@pytest.fixture
def tiny_book(monkeypatch, synthetic_data) -> dict[str, TrainConfig]:
    """Make the book two tiny models trained on the synthetic data, so a room is prepared in seconds."""
    models = {"chapter 2: tanh": SMALL, "chapter 3: ReLU": replace(SMALL, activation="relu")}
    for module in (room, booktools.release):
        monkeypatch.setattr(module, "book_models", lambda: models)
        monkeypatch.setattr(module, "load_fashion_mnist", lambda data_dir=None: synthetic_data)
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
    assert release_main(["bundle", str(bundle), "--data-dir", str(idx_dir)]) == 0
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
    monkeypatch.setattr(cache_module, "train", lambda *args, **kwargs: pytest.fail("trained on the lab machine"))
    monkeypatch.setattr(release.urllib.request, "urlopen", lambda *a, **k: pytest.fail("went to the internet"))
    capsys.readouterr()
    assert main(["prepare", "--from-bundle", str(bundle), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("(SHA-256 verified)") == 6
    assert "[2/2] chapter 3: ReLU: in the cache" in out
    from lenet_utils import find_data_dir

    assert find_data_dir(download=False) == lab / "data" / "FashionMNIST" / "raw"  # the chapters find the data


def installed_files(cache: Path) -> list[Path]:
    """Every file under `cache`, temporary ones included (a failed install may leave empty folders, no file)."""
    return sorted(path for path in cache.rglob("*") if not path.is_dir())


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
    assert installed_files(tmp_path / "lab-cache") == []


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
    assert installed_files(tmp_path / "lab-cache") == []


def test_a_file_that_is_not_a_bundle_is_one_error(tmp_path, capsys):
    (tmp_path / "notes.tar.gz").write_text("hello")
    assert main(["prepare", "--from-bundle", str(tmp_path / "notes.tar.gz")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'notes.tar.gz'} cannot be read as a bundle")


def test_bundling_before_preparing_says_what_to_run(tiny_book, idx_dir, cache, tmp_path, capsys):
    assert release_main(["bundle", str(tmp_path / "room.tar.gz"), "--data-dir", str(idx_dir)]) == 1
    assert "is missing; run `python -m lenet_utils prepare` (make room) first." in capsys.readouterr().err
    assert not (tmp_path / "room.tar.gz").exists()


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
from lenet_utils.errors import CacheError

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


# --------------------------------------------------------------------------- hostile bundles


def craft(path: Path, members: list[tuple[str, bytes] | tarfile.TarInfo], sums: str | None = None) -> Path:
    """Write a bundle of `members` (name and content, or a TarInfo of another type) and, unless None, `sums`."""
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            info = tarfile.TarInfo(f"lenet-room/{member[0]}")
            info.size = len(member[1])
            tar.addfile(info, io.BytesIO(member[1]))
        if sums is not None:
            info = tarfile.TarInfo("lenet-room/SHA256SUMS")
            info.size = len(sums.encode())
            tar.addfile(info, io.BytesIO(sums.encode()))
    return path


def sums_of(members: list[tuple[str, bytes]]) -> str:
    return "".join(f"{sha256_hex(content)}  {name}\n" for name, content in members)


@pytest.fixture
def lab(tmp_path, monkeypatch) -> Path:
    """A lab machine's empty cache, two levels below tmp_path."""
    folder = tmp_path / "lab" / "cache"
    monkeypatch.setenv("LENET_CACHE", str(folder))
    return folder


@pytest.mark.parametrize("name", ["checkpoints/../../x.pt", "checkpoints/lenet-a/../../../x.pt", "../x.pt"])
def test_a_member_whose_name_leaves_the_cache_is_refused_even_with_its_digest_listed(tmp_path, lab, name):
    members = [("checkpoints/lenet-a.pt", b"a"), (name, b"escaped")]
    bundle = craft(tmp_path / "b.tar.gz", members, sums_of(members))
    with pytest.raises(room.BundleError, match=r"which a bundle may not hold; make it again\.$"):
        room.install_bundle(bundle)
    assert installed_files(tmp_path / "lab") == []


def link(name: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"lenet-room/{name}")
    info.type, info.linkname = kind, "/etc/passwd"
    return info


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_a_member_that_is_not_a_regular_file_is_refused(tmp_path, lab, kind):
    bundle = craft(tmp_path / "b.tar.gz", [link("checkpoints/lenet-a.pt", kind)], "")
    with pytest.raises(room.BundleError, match=r"lenet-room/checkpoints/lenet-a.pt'.* may not hold"):
        room.install_bundle(bundle)
    assert installed_files(tmp_path / "lab") == []


@pytest.mark.parametrize(
    "name", ["fashion-mnist/train-images-idx1-ubyte", "fashion-mnist/t10k-labels-idx3-ubyte.gz", "notes.txt"]
)
def test_a_member_the_book_does_not_have_is_refused(tmp_path, lab, name):
    members = [(name, b"x")]
    with pytest.raises(room.BundleError, match="may not hold"):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums_of(members)))


def test_a_member_given_twice_is_refused(tmp_path, lab):
    members = [("checkpoints/lenet-a.pt", b"a"), ("checkpoints/lenet-a.pt", b"b")]
    with pytest.raises(room.BundleError, match="may not hold"):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums_of(members[:1])))
    assert installed_files(tmp_path / "lab") == []


def test_a_member_larger_than_any_file_of_the_book_is_refused_before_it_is_copied(tmp_path, lab):
    members = [("checkpoints/lenet-a.pt", bytes(room.MAX_SIZE["checkpoints"] + 1))]
    with pytest.raises(room.BundleError, match="is larger than any file of the book"):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums_of(members)))
    assert installed_files(tmp_path / "lab") == []


def test_more_checkpoints_than_the_book_could_have_are_refused(tmp_path, lab):
    members = [(f"checkpoints/lenet-{n}.pt", b"x") for n in range(room.MAX_CHECKPOINTS + 1)]
    with pytest.raises(room.BundleError, match="more checkpoints than the book has models"):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums_of(members)))
    assert installed_files(tmp_path / "lab") == []


def test_blank_lines_and_uppercase_digests_in_the_sums_are_read_as_meant(tmp_path, lab):
    sums = f"\n{sha256_hex(b'a').upper()}  checkpoints/lenet-a.pt\n\n"
    bundle = craft(tmp_path / "b.tar.gz", [("checkpoints/lenet-a.pt", b"a")], sums)
    assert room.install_bundle(bundle) == [f"installed {lab / 'checkpoints' / 'lenet-a.pt'} (SHA-256 verified)"]
    assert (lab / "checkpoints" / "lenet-a.pt").read_bytes() == b"a"


@pytest.mark.parametrize(
    ("sums", "message"),
    [
        ("", "its SHA256SUMS lists no files"),
        ("not a digest\n", "a line of its SHA256SUMS is not a digest and a name"),
        (None, "has no lenet-room/SHA256SUMS"),
    ],
)
def test_sums_that_say_nothing_or_are_malformed_install_nothing_and_say_why(tmp_path, lab, sums, message):
    members = [("checkpoints/lenet-a.pt", b"a")]
    with pytest.raises(room.BundleError, match=message):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums))
    assert installed_files(tmp_path / "lab") == []


def test_a_file_the_sums_do_not_list_is_refused(tmp_path, lab):
    members = [("checkpoints/lenet-a.pt", b"a"), ("checkpoints/lenet-b.pt", b"b")]
    with pytest.raises(room.BundleError, match=r"holds checkpoints/lenet-b.pt, which its SHA256SUMS does not list"):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums_of(members[:1])))
    assert installed_files(tmp_path / "lab") == []


def test_a_folder_where_a_file_would_go_stops_the_install_before_anything_is_installed(tmp_path, lab):
    members = [("checkpoints/lenet-a.pt", b"a"), ("checkpoints/lenet-b.pt", b"b")]
    (lab / "checkpoints" / "lenet-b.pt").mkdir(parents=True)
    with pytest.raises(CacheError, match=r"lenet-b.pt is a folder, so nothing was installed; move it away first\.$"):
        room.install_bundle(craft(tmp_path / "b.tar.gz", members, sums_of(members)))
    assert installed_files(tmp_path / "lab") == []
