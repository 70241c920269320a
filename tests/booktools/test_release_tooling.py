"""Release tooling: the release's assets and a room's bundle, written only over what they made (booktools.release).

(Named test_release_tooling, not test_release, which tests/test_release.py, the released weights' test, is.)
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

import booktools.release as release
from booktools.release import main
from lenet_utils import TrainConfig, train_or_load
from lenet_utils.checkpoint import sha256_hex

SMALL = TrainConfig(epochs=1, batch_size=50)


@pytest.fixture
def book(monkeypatch, synthetic_data, cache, cpu) -> list[Path]:
    """A book of two tiny models, trained into the cache: their checkpoints."""
    models = {"tanh": SMALL, "relu": replace(SMALL, activation="relu")}
    monkeypatch.setattr(release, "book_models", lambda: models)
    monkeypatch.setattr(release, "load_fashion_mnist", lambda data_dir=None: synthetic_data)
    for config in models.values():
        train_or_load(config, synthetic_data, cpu)
    return [config.checkpoint_path(synthetic_data) for config in models.values()]


def one_error_line(capsys) -> str:
    """The command's stderr, checked to be one line without a traceback."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("error: ")
    return err


# --------------------------------------------------------------------------- the release's assets


def test_release_assets_copy_the_checkpoints_and_record_their_digests(book, tmp_path, capsys):
    digests = tmp_path / "released_weights.json"
    assert main(["release-assets", str(tmp_path / "assets"), "--digests", str(digests)]) == 0
    recorded = json.loads(digests.read_text())
    for path in book:
        assert (tmp_path / "assets" / path.name).read_bytes() == path.read_bytes()
        assert recorded[path.name] == {"sha256": sha256_hex(path.read_bytes()), "bytes": path.stat().st_size}
    assert "2 checkpoints, " in capsys.readouterr().out


def test_an_unverified_checkpoint_is_never_released(book, tmp_path, capsys):
    data = bytearray(book[0].read_bytes())
    data[len(data) // 2] ^= 1
    book[0].write_bytes(bytes(data))
    digests = tmp_path / "released_weights.json"
    assert main(["release-assets", str(tmp_path / "assets"), "--digests", str(digests)]) == 1
    assert one_error_line(capsys).endswith(
        "fails its SHA-256 check; make the reference run (make notebooks, from an empty cache) first.\n"
    )
    assert not digests.exists()


def test_release_assets_replace_their_own_files(book, tmp_path):
    digests = tmp_path / "released_weights.json"
    for _ in range(2):
        assert main(["release-assets", str(tmp_path / "assets"), "--digests", str(digests)]) == 0


@pytest.mark.parametrize("target", ["asset", "digests"])
def test_release_assets_never_replace_a_file_they_did_not_make(book, tmp_path, capsys, target):
    digests = tmp_path / "released_weights.json"
    victim = tmp_path / "assets" / book[0].name if target == "asset" else digests
    victim.parent.mkdir(exist_ok=True)
    victim.write_text("someone's notes")
    assert main(["release-assets", str(tmp_path / "assets"), "--digests", str(digests)]) == 1
    assert "exists and is not a" in one_error_line(capsys)
    assert victim.read_text() == "someone's notes"


@pytest.mark.parametrize("out", ["file", "link", "x" * 300, "file/below"])
def test_release_assets_refuse_an_out_that_is_no_folder_of_their_own(book, tmp_path, capsys, out):
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "folder")
    assert main(["release-assets", str(tmp_path / out), "--digests", str(tmp_path / "d.json")]) == 1
    assert "is not a folder to copy the checkpoints into" in one_error_line(capsys)
    assert list((tmp_path / "folder").iterdir()) == []


# --------------------------------------------------------------------------- the bundle's file


def test_a_bundle_replaces_a_bundle(book, idx_dir, tmp_path):
    for _ in range(2):
        assert main(["bundle", str(tmp_path / "room.tar.gz"), "--data-dir", str(idx_dir)]) == 0
    with tarfile.open(tmp_path / "room.tar.gz") as tar:
        assert "lenet-room/SHA256SUMS" in tar.getnames()


def test_a_bundle_never_replaces_a_device(book, idx_dir, tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    assert main(["bundle", str(device), "--data-dir", str(idx_dir)]) == 1
    assert one_error_line(capsys) == f"error: {device} exists and is not a regular file; name a new bundle.\n"
    assert stat.S_ISCHR(device.stat().st_mode)


def test_a_bundle_never_writes_through_a_link(book, idx_dir, tmp_path, capsys):
    (tmp_path / "elsewhere.txt").write_text("kept")
    (tmp_path / "room.tar.gz").symlink_to(tmp_path / "elsewhere.txt")
    assert main(["bundle", str(tmp_path / "room.tar.gz"), "--data-dir", str(idx_dir)]) == 1
    assert "is not a regular file" in one_error_line(capsys)
    assert (tmp_path / "elsewhere.txt").read_text() == "kept"


def test_a_bundle_never_replaces_a_file_that_is_not_a_bundle(book, idx_dir, tmp_path, capsys):
    (tmp_path / "thesis.tar.gz").write_text("a year of work")
    assert main(["bundle", str(tmp_path / "thesis.tar.gz"), "--data-dir", str(idx_dir)]) == 1
    assert "exists and is not a bundle; name a new one, or delete it first." in one_error_line(capsys)
    assert (tmp_path / "thesis.tar.gz").read_text() == "a year of work"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{tmp}", "exists and is not a regular file"),
        ("{tmp}/file/room.tar.gz", "cannot write"),
        ("{tmp}/" + "x" * 300 + ".tar.gz", "cannot write"),
        ("/proc/room.tar.gz", "cannot write"),
    ],
    ids=["a folder", "parent is a file", "name too long", "/proc"],
)
def test_a_bad_output_path_is_one_line(book, idx_dir, tmp_path, capsys, target, message):
    (tmp_path / "file").write_text("a file")
    assert main(["bundle", target.format(tmp=tmp_path), "--data-dir", str(idx_dir)]) == 1
    assert message in one_error_line(capsys)


def test_an_empty_output_path_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["bundle", ""])
    assert stopped.value.code == 2
    assert "argument file: must not be empty" in capsys.readouterr().err


def test_bundling_before_preparing_says_what_to_run(book, idx_dir, tmp_path, capsys):
    book[1].unlink()
    assert main(["bundle", str(tmp_path / "room.tar.gz"), "--data-dir", str(idx_dir)]) == 1
    assert one_error_line(capsys).endswith("is missing; run `python -m lenet_utils prepare` (make room) first.\n")
    assert not (tmp_path / "room.tar.gz").exists()


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (KeyboardInterrupt, 130, "error: interrupted before bundle finished; no file is half written.\n"),
        (MemoryError, 1, "error: ran out of memory; close other programs and run bundle again.\n"),
    ],
)
def test_ctrl_c_or_too_little_memory_while_bundling_is_one_line_about_bundling(
    monkeypatch, capsys, error, status, message
):
    def write_bundle(*args):
        raise error

    monkeypatch.setattr(release, "write_bundle", write_bundle)
    assert main(["bundle", "room.tar.gz"]) == status
    assert capsys.readouterr().err == message
