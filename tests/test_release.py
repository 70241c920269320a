"""The book's released weights: where they are, and fetching them from real local HTTP servers, hostile ones too."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import threading
import time
from dataclasses import replace

import pytest
from release_fixtures import SMALL, flip_a_byte, same_weights

import lenet_utils.cache as cache_module
import lenet_utils.release as release
from lenet_utils import __version__, train_or_load
from lenet_utils.checkpoint import sha256_hex
from lenet_utils.errors import CheckpointRefusedWarning, SettingError

pytest_plugins = ["release_fixtures"]  # the server, a released checkpoint, a spy on training


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

    monkeypatch.setattr(cache_module, "write_atomically", full)
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


# --------------------------------------------------------------------------- hostile servers and settings


@pytest.fixture
def slow_server(monkeypatch):
    """serve(fast, slow): a server on 127.0.0.1 that answers `fast` at once, then `slow` a byte every 0.1 s for 30 s.

    LENET_WEIGHTS_URL points at it.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    monkeypatch.setenv("LENET_WEIGHTS_URL", f"http://127.0.0.1:{listener.getsockname()[1]}/v1")

    def serve(fast: bytes, slow: bytes) -> None:
        def answer() -> None:
            with contextlib.suppress(OSError):  # the listener closes when the test ends
                while not stop.is_set():  # each request, as a client that follows redirects asks again
                    connection, _ = listener.accept()
                    with connection:
                        connection.recv(1 << 16)
                        connection.sendall(fast)
                        for byte in slow[:300]:
                            if stop.wait(0.1):
                                return
                            connection.sendall(bytes([byte]))

        threading.Thread(target=answer, daemon=True).start()

    yield serve
    stop.set()
    listener.close()


ANSWER = b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000


@pytest.mark.parametrize("slow_from", [0, ANSWER.index(b"\r\n\r\n") + 4], ids=["headers", "body"])
def test_a_server_that_sends_a_byte_at_a_time_is_given_up_at_the_deadline(slow_server, digests, monkeypatch, slow_from):
    digests.write_text(json.dumps({"lenet-x.pt": {"sha256": "0" * 64, "bytes": 1000}}))
    monkeypatch.setattr(release, "TIMEOUT_SECONDS", 5)  # each byte comes well within it
    monkeypatch.setattr(release, "DEADLINE_SECONDS", 1, raising=False)
    slow_server(ANSWER[:slow_from], ANSWER[slow_from:])
    started = time.monotonic()
    data, why = release.download("lenet-x.pt")
    assert time.monotonic() - started < 15  # the server would go on for 30 s
    assert data is None
    assert why.endswith("sent too slowly to finish a download within 1 s")


def test_a_download_cut_short_is_called_incomplete(slow_server, digests):
    digests.write_text(json.dumps({"lenet-x.pt": {"sha256": "0" * 64, "bytes": 1000}}))
    slow_server(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 600, b"")
    data, why = release.download("lenet-x.pt")
    assert data is None
    assert why.endswith("/lenet-x.pt stopped after 600 of the 1,000 bytes released")


def test_a_redirect_loop_is_one_short_line(slow_server, digests):
    digests.write_text(json.dumps({"lenet-x.pt": {"sha256": "0" * 64, "bytes": 1000}}))
    slow_server(b"HTTP/1.0 302 Found\r\nLocation: /v1/lenet-x.pt\r\n\r\n", b"")  # the same address again
    _, why = release.download("lenet-x.pt")
    assert why.endswith("/lenet-x.pt redirected in a loop (HTTP 302)")
    assert "\n" not in why


@pytest.mark.parametrize("value", ["0", "none", "false", "no", "http://[::1", "ftp://example.org/x", "example.org"])
def test_a_weights_url_not_understood_is_an_error_naming_the_accepted_values(
    synthetic_data, cache, cpu, trains, monkeypatch, value
):
    monkeypatch.setenv("LENET_WEIGHTS_URL", value)
    with pytest.raises(
        SettingError, match=rf"^LENET_WEIGHTS_URL='{re.escape(value)}' is not understood; set it to off,"
    ):
        train_or_load(SMALL, synthetic_data, cpu, fetch=True)
    assert trains == []
