"""Train-or-load: the cache of checkpoints, and the quarantine of refused ones (lenet_utils.cache)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import lenet_utils.cache as cache_module
import lenet_utils.loop as loop
from lenet_utils import (
    CheckpointMismatchError,
    DataSplits,
    NonFiniteLossError,
    TrainConfig,
    train_or_load,
)
from lenet_utils.checkpoint import seal
from lenet_utils.errors import CacheError, CheckpointNotSavedWarning, CheckpointRefusedWarning

SMALL = TrainConfig(epochs=2, batch_size=50)  # 4 batches per epoch on the synthetic data


@pytest.fixture
def ctrl_c_in_epoch(monkeypatch):
    """``ctrl_c_in_epoch(n)`` makes Ctrl-C arrive once, during the n-th training epoch from now on."""

    def install(epoch: int) -> None:
        real = loop.train_one_epoch
        calls = {"count": 0}

        def train_one_epoch(*args, **kwargs):
            calls["count"] += 1
            if calls["count"] == epoch:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(loop, "train_one_epoch", train_one_epoch)

    return install


# --------------------------------------------------------------------------- train_or_load


def test_train_or_load_saves_the_trained_model_and_its_history(synthetic_data, cache, cpu):
    result = train_or_load(SMALL, synthetic_data, cpu)
    path = SMALL.checkpoint_path(synthetic_data)
    assert result.from_cache is False
    assert path.is_file()
    payload = torch.load(path, weights_only=True)
    assert payload["history"] == result.history.as_dict()
    assert payload["config"]["batch_size"] == 50


def test_train_or_load_uses_the_given_folder(synthetic_data, tmp_path, cache, cpu):
    train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu, directory=tmp_path)
    assert [p.name for p in tmp_path.glob("*.pt")] == [replace(SMALL, epochs=1).checkpoint_path(synthetic_data).name]
    assert not cache.exists()


def test_train_or_load_accepts_the_folder_as_a_string(synthetic_data, tmp_path, cache, cpu):
    train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu, directory=str(tmp_path))
    assert len(list(tmp_path.glob("*.pt"))) == 1


def test_a_cached_model_prints_its_training_log(synthetic_data, cache, cpu, capsys):
    train_or_load(SMALL, synthetic_data, cpu)
    capsys.readouterr()
    train_or_load(SMALL, synthetic_data, cpu)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("loaded the trained model from ")
    assert [line[:10] for line in lines[1:]] == ["epoch 1/2 ", "epoch 2/2 "]


def test_an_interrupted_run_is_not_saved(synthetic_data, cache, cpu, ctrl_c_in_epoch):
    ctrl_c_in_epoch(2)
    result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.history.interrupted
    assert result.history.epochs == 1
    assert not SMALL.checkpoint_path(synthetic_data).exists()


def test_after_an_interrupted_run_the_next_call_trains_again(synthetic_data, cache, cpu, ctrl_c_in_epoch):
    ctrl_c_in_epoch(1)
    assert train_or_load(SMALL, synthetic_data, cpu).history.interrupted
    result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.from_cache is False
    assert result.history.epochs == 2
    assert SMALL.checkpoint_path(synthetic_data).is_file()


def test_a_diverging_run_raises_and_is_not_saved(synthetic_data, cache, cpu):
    config = replace(SMALL, activation="relu", lr=1e20)
    with pytest.raises(NonFiniteLossError, match=r"learning rate 1e\+20"):
        train_or_load(config, synthetic_data, cpu)
    assert not config.checkpoint_path(synthetic_data).exists()


@pytest.fixture
def no_training(monkeypatch):
    """Make train() fail the test, to show an error came before any training."""
    monkeypatch.setattr(cache_module, "train", lambda *args, **kwargs: pytest.fail("trained before finding the error"))


@pytest.mark.parametrize("where", ["cache is a file", "a parent is a file"])
def test_an_unusable_cache_is_reported_before_training(synthetic_data, tmp_path, monkeypatch, cpu, no_training, where):
    (tmp_path / "file").write_text("not a folder")
    cache = tmp_path / "file" if where == "cache is a file" else tmp_path / "file" / "below"
    monkeypatch.setenv("LENET_CACHE", str(cache))
    with pytest.raises(CacheError) as excinfo:
        train_or_load(SMALL, synthetic_data, cpu)
    assert str(excinfo.value).startswith(f"cannot save checkpoints in {cache / 'checkpoints'} (Not a directory)")
    assert str(excinfo.value).endswith("; set LENET_CACHE (or pass directory=) to a writable folder.")


def test_a_checkpoint_folder_that_is_a_file_is_reported_before_training(synthetic_data, cache, cpu, no_training):
    cache.mkdir()
    (cache / "checkpoints").write_text("not a folder")
    with pytest.raises(CacheError, match=r"checkpoints \(it is a file, not a folder\)"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_too_little_free_space_is_reported_before_training(synthetic_data, cache, cpu, no_training, monkeypatch):
    monkeypatch.setattr("lenet_utils.paths.shutil.disk_usage", lambda path: type("Usage", (), {"free": 1024}))
    weights = sum(t.numel() * 4 for t in SMALL.build_model().state_dict().values())  # float32
    needed = (weights + 64 * 1024) // 1024  # the weights and 64 KiB for the rest of the file
    with pytest.raises(CacheError, match=f"No space left on device: 1 KiB free, {needed} KiB needed\\); set"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_failed_save_hands_the_trained_model_back_with_a_warning(synthetic_data, cache, cpu, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "save_checkpoint", full_disk)
    folder = SMALL.checkpoint_path(synthetic_data).parent
    with pytest.warns(CheckpointNotSavedWarning) as caught:
        result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.history.epochs == 2
    assert not result.from_cache
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert str(caught[0].message) == (
        f"could not save the trained model in {folder} (No space left on device); it is returned, but it will be "
        "trained again next time unless you free space there or set LENET_CACHE to a writable folder."
    )


def test_a_successful_save_gives_no_warning(synthetic_data, cache, cpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu)


def test_a_checkpoint_path_that_is_a_folder_is_reported(synthetic_data, cache, cpu, no_training):
    path = SMALL.checkpoint_path(synthetic_data)
    path.mkdir(parents=True)
    with pytest.raises(CacheError, match=f"cannot read {path} \\(Is a directory\\)"):
        train_or_load(SMALL, synthetic_data, cpu)


def edit_checkpoint(trained: TrainConfig, data: DataSplits, **changes) -> None:
    """Rewrite the cached checkpoint of `trained` with some payload entries changed and sealed again.

    That is a checkpoint lenet_utils could have written (an older version, another configuration copied
    under this name): its digest holds, so what is checked is its content.
    """
    path = trained.checkpoint_path(data)
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path.write_bytes(seal(buffer.getvalue()))


def test_a_checkpoint_copied_from_another_configuration_is_refused(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    config = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["config"]
    edit_checkpoint(SMALL, synthetic_data, config={**config, "epochs": 9, "lr": 0.5})
    with pytest.raises(CheckpointMismatchError, match=r"another configuration \(differs in epochs, lr\); delete it"):
        train_or_load(SMALL, synthetic_data, cpu)


@pytest.mark.parametrize("recorded", ["tanh, 2 epochs", None])
def test_a_checkpoint_that_records_no_configuration_is_refused_as_such(synthetic_data, cache, cpu, recorded):
    train_or_load(SMALL, synthetic_data, cpu)
    edit_checkpoint(SMALL, synthetic_data, config=recorded)
    with pytest.raises(CheckpointMismatchError, match=r"records no training configuration; delete it and train"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_checkpoint_with_the_widths_as_a_list_still_loads(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    config = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["config"]
    edit_checkpoint(SMALL, synthetic_data, config={**config, "widths": list(config["widths"])})
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache


def test_a_checkpoint_without_a_field_added_later_still_loads(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    config = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["config"]
    del config["schedule"]  # as if written before schedule existed: it counts as its default
    edit_checkpoint(SMALL, synthetic_data, config=config)
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache


@pytest.mark.parametrize("history", [None, {"train_loss": [0.5]}, "five epochs"], ids=["missing", "short", "text"])
def test_a_checkpoint_with_a_malformed_history_is_refused(synthetic_data, cache, cpu, history):
    train_or_load(SMALL, synthetic_data, cpu)
    edit_checkpoint(SMALL, synthetic_data, history=history)
    with pytest.raises(CheckpointMismatchError, match="holds a malformed history"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_checkpoint_with_the_history_of_fewer_epochs_is_refused(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    history = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["history"]
    edit_checkpoint(SMALL, synthetic_data, history={k: v[:1] if isinstance(v, list) else v for k, v in history.items()})
    with pytest.raises(CheckpointMismatchError, match="holds the history of 1 finished epochs, not 2; delete it"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_stale_temporary_file_of_a_dead_process_is_removed(synthetic_data, cache, cpu):
    path = SMALL.checkpoint_path(synthetic_data)
    path.parent.mkdir(parents=True)
    stale = path.with_name(f".{path.name}.{_ended_pid()}-0badf00d.tmp")  # left by a process killed while saving
    stale.write_bytes(b"PK partial")
    os.utime(stale, (time.time() - 600,) * 2)
    train_or_load(SMALL, synthetic_data, cpu)
    assert not stale.exists()
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def flip_a_byte(path: Path) -> None:
    """Change one byte in the middle of `path`, as a failing disk or a bad copy would."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flipped byte", "empty", "no digest"])
def test_a_damaged_cached_checkpoint_is_moved_aside_and_trained_again(synthetic_data, cache, cpu, damage):
    first = train_or_load(SMALL, synthetic_data, cpu)
    path = SMALL.checkpoint_path(synthetic_data)
    original = path.read_bytes()
    if damage == "flipped byte":
        flip_a_byte(path)
    else:
        path.write_bytes(b"" if damage == "empty" else original[: -len(seal(b""))])
    damaged = path.read_bytes()
    with pytest.warns(CheckpointRefusedWarning) as caught:
        again = train_or_load(SMALL, synthetic_data, cpu)
    assert len(caught) == 1
    assert caught[0].filename == __file__
    message = str(caught[0].message)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert message.endswith(f"; moved it aside to {path.name}.corrupt and training it again.")
    assert not again.from_cache
    assert again.history.epochs == first.history.epochs
    assert path.with_name(f"{path.name}.corrupt").read_bytes() == damaged  # nothing is lost
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache  # the new checkpoint verifies


def test_a_checkpoint_that_cannot_be_moved_aside_is_an_error_that_says_what_to_do(
    synthetic_data, cache, cpu, monkeypatch
):
    train_or_load(SMALL, synthetic_data, cpu)
    flip_a_byte(SMALL.checkpoint_path(synthetic_data))

    def read_only(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("lenet_utils.checkpoint.os.replace", read_only)
    with pytest.raises(CacheError, match=r"could not be moved aside \(Permission denied\); delete it, or set"):
        train_or_load(SMALL, synthetic_data, cpu)
