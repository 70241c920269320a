"""Saving and loading trained models (lenet_utils.checkpoint)."""

from __future__ import annotations

import copy
import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch

from lenet_utils import CheckpointMismatchError, build_lenet, load_checkpoint, save_checkpoint
from lenet_utils.checkpoint import (
    CheckpointDigestError,
    architecture,
    layers,
    move_aside,
    remove_stale_temporaries,
    seal,
    sha256_hex,
)


def fresh(seed: int = 1, **options) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return build_lenet(**options)


def save_sealed(content: object, path: Path) -> Path:
    """torch.save `content` to `path` with a valid SHA-256 seal, as if lenet_utils had written it."""
    buffer = io.BytesIO()
    torch.save(content, buffer)
    path.write_bytes(seal(buffer.getvalue()))
    return path


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.fixture
def saved(tmp_path, model):
    """A checkpoint of the `model` fixture (tanh LeNet-5) with a history in it."""
    return save_checkpoint(tmp_path / "model.pt", model, history={"train_loss": [0.5]})


# --------------------------------------------------------------------------- the happy path


def test_a_loaded_model_has_the_saved_weights(saved, model):
    target = fresh(seed=1)
    load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), model.state_dict())


def test_load_returns_the_extra_data(saved):
    payload = load_checkpoint(saved, fresh())
    assert payload["history"] == {"train_loss": [0.5]}
    assert payload["format"] == 1


def test_save_creates_missing_folders_and_returns_the_path(tmp_path, model):
    path = tmp_path / "a" / "b" / "model.pt"
    assert save_checkpoint(path, model) == path
    assert path.is_file()


def test_layers_name_every_submodule_and_its_type(model):
    assert layers(model)[:3] == [["conv1", "Conv2d"], ["tanh1", "Tanh"], ["avg_pool1", "AvgPool2d"]]


def test_save_leaves_no_temporary_files(saved):
    assert os.listdir(saved.parent) == ["model.pt"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_checkpoint_gets_the_mode_the_umask_gives(tmp_path, model, umask):
    previous = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "model.pt", model)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_saving_over_a_checkpoint_replaces_it(saved):
    other = fresh(seed=5)
    save_checkpoint(saved, other)
    target = fresh()
    load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), other.state_dict())


# --------------------------------------------------------------------------- another architecture

OTHER_ARCHITECTURES = {
    "relu": dict(activation="relu"),
    "sigmoid": dict(activation="sigmoid"),
    "act_after_conv2": dict(act_after_conv2=True),
    "max_pool": dict(pool="max"),
    "batch_norm": dict(batch_norm=True),
    "dropout": dict(dropout=0.5),
    "widths": dict(widths=(8, 16, 120, 84)),
}


@pytest.mark.parametrize("options", OTHER_ARCHITECTURES.values(), ids=OTHER_ARCHITECTURES.keys())
def test_a_checkpoint_of_another_architecture_is_refused(saved, options):
    with pytest.raises(CheckpointMismatchError, match="holds a different architecture"):
        load_checkpoint(saved, fresh(**options))


@pytest.mark.parametrize("options", OTHER_ARCHITECTURES.values(), ids=OTHER_ARCHITECTURES.keys())
def test_a_refused_checkpoint_leaves_the_model_untouched(saved, options):
    target = fresh(seed=2, **options)
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(CheckpointMismatchError):
        load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), before)


def test_the_refusal_names_what_differs(saved):
    with pytest.raises(CheckpointMismatchError) as excinfo:
        load_checkpoint(saved, fresh(activation="relu"))
    assert str(excinfo.value) == (
        f"{saved} holds a different architecture (differs in relu1, relu2, relu3, tanh1); "
        "build the model it was trained with, or delete it and train again."
    )


def test_a_shape_difference_is_reported(saved):
    with pytest.raises(CheckpointMismatchError, match="differs in tensor shapes"):
        load_checkpoint(saved, fresh(widths=(6, 16, 120, 100)))


# --------------------------------------------------------------------------- damaged files


NO_DIGEST = "has no SHA-256 digest at its end (it is incomplete, or was saved before checkpoints had one)"
WRONG_DIGEST = "does not match the SHA-256 digest it was saved with (damaged or edited)"
# Each damaged file and the problem its refusal must name.
DAMAGE = {
    "empty": (lambda good: b"", "is empty"),
    "text": (lambda good: b"hello, I am not a checkpoint\n", "is not a PyTorch checkpoint"),
    "random bytes": (lambda good: bytes(range(256)) * 4, "is not a PyTorch checkpoint"),
    "first half": (lambda good: good[: len(good) // 2], NO_DIGEST),
    "first 100 bytes": (lambda good: good[:100], NO_DIGEST),
    "last half": (lambda good: good[len(good) // 2 :], WRONG_DIGEST),
    "bytes appended": (lambda good: good + b"appended", NO_DIGEST),
    "one byte flipped": (lambda good: good[:1000] + bytes([good[1000] ^ 1]) + good[1001:], WRONG_DIGEST),
    "digest changed": (lambda good: good[:-2] + (b"0" if good[-2:-1] != b"0" else b"1") + b"\n", WRONG_DIGEST),
    "written without a digest": (lambda good: good[: -len(seal(b""))], NO_DIGEST),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_checkpoint_is_refused_without_touching_the_model(saved, damage):
    make, problem = DAMAGE[damage]
    saved.write_bytes(make(saved.read_bytes()))
    target = fresh(seed=2)
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(CheckpointDigestError) as excinfo:
        load_checkpoint(saved, target)
    assert str(excinfo.value) == f"{saved} {problem}; delete it and train again."
    assert_same_weights(target.state_dict(), before)


def test_a_checkpoint_ends_with_the_sha256_of_what_precedes_it(saved):
    data = saved.read_bytes()
    body, line = data[: -len(seal(b""))], data[-len(seal(b"")) :]
    assert line == f"\nlenet-sha256 {sha256_hex(body)}\n".encode()
    assert body.startswith(b"PK\x03\x04")


def test_a_sealed_checkpoint_still_loads_with_plain_torch_load(saved, model):
    payload = torch.load(saved, weights_only=True)
    assert_same_weights(payload["state_dict"], model.state_dict())


def test_eight_bytes_changed_inside_conv3s_weights_are_refused(saved, model):
    """The issue's case: before digests this loaded silently, with weights of 5.6e14."""
    data = bytearray(saved.read_bytes())
    weights = model.state_dict()["conv3.weight"].numpy().tobytes()
    start = bytes(data).index(weights[:64]) + 400  # inside conv3's weights, as stored in the archive
    data[start : start + 8] = b"\x7f" * 8
    saved.write_bytes(bytes(data))
    with pytest.raises(CheckpointDigestError, match="does not match the SHA-256 digest"):
        load_checkpoint(saved, fresh())


def _payload(model: torch.nn.Module, **changes) -> dict:
    """A format-1 payload of `model` with some entries replaced (or removed where the value is ...)."""
    payload = {
        "format": 1,
        "architecture": architecture(model),
        "layers": layers(model),
        "state_dict": model.state_dict(),
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not ...}


def _with(model: torch.nn.Module, name: str, value: object) -> dict:
    state_dict = dict(model.state_dict())
    state_dict[name] = value
    return state_dict


# Format-1 payloads that are almost right, as a hand edit or a bug could leave them, and the entry to blame.
ALMOST_RIGHT = {
    "no architecture": (lambda m: _payload(m, architecture=...), "architecture"),
    "architecture a string": (lambda m: _payload(m, architecture="lenet5"), "architecture"),
    "architecture of ints": (lambda m: _payload(m, architecture=[1, 2]), "architecture"),
    "no state dict": (lambda m: _payload(m, state_dict=...), "state_dict"),
    "empty state dict": (lambda m: _payload(m, state_dict={}), "state_dict"),
    "state dict a list": (lambda m: _payload(m, state_dict=[1, 2]), "state_dict"),
    "a weight not a tensor": (lambda m: _payload(m, state_dict=_with(m, "conv1.bias", [0.0] * 6)), "state_dict"),
    "a tensor of the wrong shape": (
        lambda m: _payload(m, state_dict=_with(m, "conv1.weight", torch.zeros(3))),
        "architecture",
    ),
    "a missing tensor": (
        lambda m: _payload(m, state_dict={k: v for k, v in m.state_dict().items() if k != "fc2.bias"}),
        "architecture",
    ),
    "no layers": (lambda m: _payload(m, layers=...), "layers"),
    "layers an int": (lambda m: _payload(m, layers=3), "layers"),
    "a layer type not a string": (lambda m: _payload(m, layers=[["conv1", 1]]), "layers"),
    "a layer name not a string": (lambda m: _payload(m, layers=[[1, "Conv2d"]]), "layers"),
    "a layer entry of three": (lambda m: _payload(m, layers=[["conv1", "Conv2d", "x"]]), "layers"),
    "a layer entry not a pair": (lambda m: _payload(m, layers=["conv1"]), "layers"),
    "non-finite weights": (
        lambda m: _payload(m, state_dict=_with(m, "fc2.bias", torch.full((10,), float("nan")))),
        "state_dict",
    ),
}


@pytest.mark.parametrize("case", ALMOST_RIGHT)
def test_an_almost_right_checkpoint_is_refused_clearly(tmp_path, model, case):
    make, entry = ALMOST_RIGHT[case]
    path = save_sealed(make(model), tmp_path / "edited.pt")
    target = fresh(seed=2)
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(CheckpointMismatchError, match=f"has a missing or malformed {entry}.*delete it and train"):
        load_checkpoint(path, target)
    assert_same_weights(target.state_dict(), before)


@pytest.mark.parametrize(
    "content",
    [{"weights": 1}, torch.zeros(3), "state_dict"],
    ids=["other dict", "tensor", "string"],
)
def test_a_torch_file_not_written_by_lenet_utils_is_refused(tmp_path, content):
    path = save_sealed(content, tmp_path / "other.pt")
    with pytest.raises(CheckpointMismatchError, match="not written by lenet_utils"):
        load_checkpoint(path, fresh())


def test_a_checkpoint_of_a_newer_format_asks_for_a_newer_lenet_utils(tmp_path, model):
    path = save_sealed(_payload(model, format=2), tmp_path / "newer.pt")
    with pytest.raises(CheckpointMismatchError, match=r"written by a newer lenet_utils.*upgrade lenet_utils"):
        load_checkpoint(path, fresh())


def test_a_bare_state_dict_is_refused(tmp_path, model):
    path = save_sealed(model.state_dict(), tmp_path / "state_dict.pt")
    with pytest.raises(CheckpointMismatchError, match="not written by lenet_utils"):
        load_checkpoint(path, fresh())


class RunsCode:
    """Unpickling this would call print: the shape of a malicious checkpoint."""

    def __reduce__(self):
        return print, ("this ran",)


@pytest.mark.parametrize("content", [lambda m: m, lambda m: RunsCode()], ids=["whole model", "reduce"])
def test_a_checkpoint_that_would_run_code_is_refused_without_advice_to_run_it(tmp_path, model, capsys, content):
    path = save_sealed(
        {"format": 1, "state_dict": model.state_dict(), "object": content(model)}, tmp_path / "pickled.pt"
    )
    with pytest.raises(CheckpointMismatchError) as excinfo:
        load_checkpoint(path, fresh())
    assert str(excinfo.value) == (
        f"{path} holds Python objects that could run code when loaded, so it was refused; delete it and train again."
    )
    assert capsys.readouterr().out == ""


def test_a_damaged_pickle_in_a_sound_archive_is_called_damaged(tmp_path, saved):
    damaged = tmp_path / "damaged.pt"
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(saved.read_bytes()[: -len(seal(b""))])) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[:2] + b"\xff" + data[3:] if name.endswith("data.pkl") else data)
    damaged.write_bytes(seal(buffer.getvalue()))  # sealed after the damage: the digest cannot see it
    with pytest.raises(CheckpointMismatchError) as excinfo:
        load_checkpoint(damaged, fresh())
    assert str(excinfo.value) == f"{damaged} is damaged or incomplete; delete it and train again."


def test_a_checkpoint_of_other_shapes_is_refused_naming_the_shapes(saved):
    with pytest.raises(CheckpointMismatchError, match=r"\(differs in tensor shapes\)"):
        load_checkpoint(saved, fresh(widths=(6, 16, 120, 100)))


def test_checkpoints_load_with_weights_only_set_explicitly(saved, monkeypatch):
    """weights_only=True must be explicit: PyTorch before 2.6 defaulted to False, which runs pickled code."""
    calls = []
    real = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(saved, fresh(), map_location="cpu")
    assert calls == [{"map_location": "cpu", "weights_only": True}]


def test_a_failed_open_reports_its_own_error_not_a_missing_temporary_file(tmp_path, model, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(OSError) as excinfo:
        save_checkpoint(tmp_path / "model.pt", model)
    assert excinfo.value.errno == 28


def test_a_missing_checkpoint_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nowhere.pt", fresh())


# --------------------------------------------------------------------------- atomic writes


@pytest.fixture(params=[OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["disk full", "ctrl-c"])
def break_torch_save(request, monkeypatch):
    """Call it to make torch.save write a few bytes and then fail; it returns the error type to expect."""
    error = request.param

    def save(obj, fh, *args, **kwargs):
        fh.write(b"PK\x03\x04 partial")
        raise error

    def install() -> type[BaseException]:
        monkeypatch.setattr(torch, "save", save)
        return type(error)

    return install


def test_a_failed_save_leaves_no_file(tmp_path, model, break_torch_save):
    error = break_torch_save()
    with pytest.raises(error):
        save_checkpoint(tmp_path / "model.pt", model)
    assert os.listdir(tmp_path) == []


def test_a_failed_overwrite_keeps_the_previous_checkpoint(saved, model, break_torch_save):
    original = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    error = break_torch_save()
    with pytest.raises(error):
        save_checkpoint(saved, model)
    assert os.listdir(saved.parent) == ["model.pt"]
    target = fresh()
    load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), original)


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_save_that_fails_after_the_temporary_file_was_made_removes_it(tmp_path, model, monkeypatch, failing):
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: os.close(fd) or fail())
    else:
        monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(tmp_path / "model.pt", model)
    assert os.listdir(tmp_path) == []


def test_the_temporary_file_reaches_the_disk_before_it_is_renamed(tmp_path, model, monkeypatch):
    calls = []  # (what, inode of the file it was done to)
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", os.fstat(fd).st_ino)) or fsync(fd))
    monkeypatch.setattr(
        os, "replace", lambda old, new: calls.append(("replace", os.stat(old).st_ino)) or replace(old, new)
    )
    save_checkpoint(tmp_path / "model.pt", model)
    [(_, renamed)] = [call for call in calls if call[0] == "replace"]
    assert ("fsync", renamed) in calls[: calls.index(("replace", renamed))]


# --------------------------------------------------------------------------- leftovers of killed processes


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def temporary(folder: Path, pid: int, age_seconds: float, name: str = "lenet-relu-0123456789ab.pt") -> Path:
    """A temporary file as save_checkpoint names it, `age_seconds` old."""
    path = folder / f".{name}.{pid}-0badf00d.tmp"
    path.write_bytes(b"PK\x03\x04 partial")
    os.utime(path, (time.time() - age_seconds,) * 2)
    return path


def test_temporaries_of_dead_processes_are_removed(tmp_path):
    stale = temporary(tmp_path, dead_pid(), age_seconds=120)
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert os.listdir(tmp_path) == []


def test_a_live_process_keeps_its_temporary_file_for_a_day(tmp_path):
    writing = temporary(tmp_path, os.getppid(), age_seconds=3600)
    forgotten = temporary(tmp_path, os.getppid(), age_seconds=25 * 3600, name="lenet-tanh-0123456789ab.pt")
    assert remove_stale_temporaries(tmp_path) == [forgotten]
    assert writing.exists()


def test_a_fresh_temporary_file_is_kept_even_if_its_pid_is_unknown_here(tmp_path):
    """Its writer may be on another machine that shares the folder, and still be saving."""
    fresh_file = temporary(tmp_path, dead_pid(), age_seconds=5)
    assert remove_stale_temporaries(tmp_path) == []
    assert fresh_file.exists()


@pytest.mark.parametrize(
    "name", ["notes.txt", ".model.pt.1-0badf00d.tmp", "lenet-relu-0123456789ab.pt", ".lenet-x.pt.1-zz.tmp"]
)
def test_other_files_are_never_removed(tmp_path, name):
    (tmp_path / name).write_text("keep me")
    os.utime(tmp_path / name, (time.time() - 9 * 24 * 3600,) * 2)
    assert remove_stale_temporaries(tmp_path) == []
    assert (tmp_path / name).exists()


def test_a_missing_folder_has_nothing_to_clean(tmp_path):
    assert remove_stale_temporaries(tmp_path / "none") == []


def test_a_refused_checkpoint_is_moved_aside_never_over_another(saved):
    first = move_aside(saved)
    saved.write_bytes(b"second")
    second = move_aside(saved)
    assert (first.name, second.name) == ("model.pt.corrupt", "model.pt.2.corrupt")
    assert second.read_bytes() == b"second"
    assert first.stat().st_size > 1000
    assert not saved.exists()


# A child that saves a checkpoint and stops inside the write (fsync waits), so a signal arrives mid-save.
SAVE_AND_WAIT = """
import os, sys, time
from lenet_utils import lenet5, save_checkpoint

def slow_fsync(fd):
    print("saving", flush=True)
    time.sleep(60)

os.fsync = slow_fsync
save_checkpoint(sys.argv[1], lenet5("tanh"))
"""


@pytest.mark.slow
def test_sigterm_while_saving_leaves_no_temporary_file_and_ends_the_process(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SAVE_AND_WAIT), str(tmp_path / "model.pt")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline() == "saving\n"
    assert [p.name.endswith(".tmp") for p in tmp_path.iterdir()] == [True]  # the write is under way
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGTERM, stderr  # still ended by the signal, as its sender expects
    assert os.listdir(tmp_path) == []
    assert "Traceback" not in stderr


def test_a_reader_never_sees_a_checkpoint_and_a_digest_that_disagree_while_others_write(tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", fresh(seed=0))
    writers = [
        threading.Thread(target=lambda seed=seed: [save_checkpoint(path, fresh(seed=seed)) for _ in range(15)])
        for seed in (1, 2)
    ]
    for writer in writers:
        writer.start()
    loads = 0
    while any(writer.is_alive() for writer in writers) or loads == 0:
        load_checkpoint(path, fresh())  # raises if a file and its digest ever disagree
        loads += 1
    for writer in writers:
        writer.join()
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]
