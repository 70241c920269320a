"""Training configurations, training, and train-or-load (lenet_utils.experiment)."""

from __future__ import annotations

import inspect
import io
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.experiment as experiment
import lenet_utils.loop as loop
from lenet_utils import (
    DEFAULT_SEED,
    CheckpointMismatchError,
    DataSplits,
    NonFiniteLossError,
    TrainConfig,
    evaluate,
    learning_rates,
    make_loader,
    train,
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


# --------------------------------------------------------------------------- TrainConfig


def test_defaults_are_the_original_protocol():
    config = TrainConfig()
    assert (config.activation, config.epochs, config.batch_size, config.lr, config.seed) == (
        "tanh",
        5,
        100,
        1e-3,
        59,
    )
    assert config.seed == DEFAULT_SEED


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(epochs=0), "epochs and batch_size must be positive"),
        (dict(batch_size=0), "epochs and batch_size must be positive"),
        (dict(lr=0.0), "lr must be positive"),
        (dict(lr=float("nan")), "lr must be positive"),
        (dict(schedule="cosine"), "choose one of: constant, onecycle"),
        (dict(activation="swish"), "choose one of: tanh, relu, sigmoid"),
        (dict(pool="min"), "choose one of: avg, max"),
        (dict(dropout=1.0), "dropout must be in"),
    ],
    ids=["epochs", "batch_size", "lr zero", "lr nan", "schedule", "activation", "pool", "dropout"],
)
def test_a_bad_config_is_refused_at_once(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)


def test_build_model_follows_the_config():
    model = TrainConfig("relu", pool="max", act_after_conv2=True).build_model()
    names = [name for name, _ in model.named_children()]
    assert "relu1" in names
    assert "max_pool1" in names
    assert "relu_conv2" in names


def test_widths_given_as_a_list_are_stored_as_a_tuple(synthetic_data):
    config = TrainConfig(widths=[6, 16, 120, 84])
    assert config.widths == (6, 16, 120, 84)
    assert config.key(synthetic_data) == TrainConfig().key(synthetic_data)


def test_key_is_a_short_stable_hash(synthetic_data):
    key = TrainConfig().key(synthetic_data)
    assert key == TrainConfig().key(synthetic_data)
    assert re.fullmatch(r"[0-9a-f]{12}", key)


# Another valid value for every field of TrainConfig: a new field must be added here (the next test says so).
OTHER_VALUES = {
    "activation": "relu",
    "epochs": 6,
    "batch_size": 64,
    "lr": 2e-3,
    "seed": 1,
    "act_after_conv2": True,
    "pool": "max",
    "batch_norm": True,
    "dropout": 0.1,
    "widths": (6, 16, 120, 100),
    "flip": True,
    "max_shift": 2,
    "schedule": "onecycle",
}


def test_the_key_test_covers_every_field():
    assert set(OTHER_VALUES) == {f.name for f in fields(TrainConfig)}, "add the new field to OTHER_VALUES"


@pytest.mark.parametrize("name", OTHER_VALUES)
def test_every_field_changes_the_key(name, synthetic_data):
    assert replace(TrainConfig(), **{name: OTHER_VALUES[name]}).key(synthetic_data) != TrainConfig().key(synthetic_data)


@pytest.mark.parametrize(
    "change",
    [dict(split_seed=1), dict(val=TensorDataset(torch.zeros(3)))],
    ids=["split seed", "validation size"],
)
def test_another_data_split_changes_the_key(change, synthetic_data):
    assert TrainConfig().key(replace(synthetic_data, **change)) != TrainConfig().key(synthetic_data)


def test_checkpoints_live_in_the_cache(cache, synthetic_data):
    config = TrainConfig("relu")
    expected = cache / "checkpoints" / f"lenet-relu-{config.key(synthetic_data)}.pt"
    assert config.checkpoint_path(synthetic_data) == expected


def test_checkpoint_path_accepts_another_folder(tmp_path, synthetic_data):
    assert TrainConfig().checkpoint_path(synthetic_data, tmp_path).parent == tmp_path


# --------------------------------------------------------------------------- learning_rates


def test_a_constant_schedule_keeps_the_learning_rate():
    rates = learning_rates(TrainConfig(epochs=2, lr=0.01), steps_per_epoch=3)
    assert rates.tolist() == [0.01] * 6


def test_the_one_cycle_schedule_rises_to_the_peak_and_falls_far_below_it():
    rates = learning_rates(TrainConfig(epochs=4, lr=0.01, schedule="onecycle"), steps_per_epoch=25)
    peak = int(rates.argmax())
    assert len(rates) == 100, "one rate per optimizer step"
    assert rates.max() == pytest.approx(0.01)
    assert 0 < peak < 50, "the peak comes in the first half"
    assert (rates[: peak + 1] == sorted(rates[: peak + 1])).all(), "rising to the peak"
    assert (rates[peak:] == sorted(rates[peak:], reverse=True)).all(), "falling after it"
    assert rates[0] < 0.01 / 10
    assert rates[-1] < 0.01 / 1000


def test_learning_rates_are_those_training_uses(synthetic_data, cpu, monkeypatch):
    config = replace(SMALL, schedule="onecycle")
    seen = []
    real_step = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    train(config, synthetic_data, cpu)
    steps = len(make_loader(synthetic_data.train, config.batch_size, shuffle=True))
    assert seen == pytest.approx(learning_rates(config, steps).tolist())


# --------------------------------------------------------------------------- train


def test_train_runs_the_configured_epochs(synthetic_data, cpu):
    result = train(SMALL, synthetic_data, cpu)
    assert result.from_cache is False
    assert result.history.epochs == 2
    assert not result.history.interrupted
    assert result.history.val_acc[-1] > 0.3  # chance is 0.1


def test_train_builds_the_configured_model(synthetic_data, cpu):
    result = train(replace(SMALL, epochs=1, activation="relu", batch_norm=True), synthetic_data, cpu)
    assert isinstance(result.model.relu1, torch.nn.ReLU)
    assert isinstance(result.model.bn1, torch.nn.BatchNorm2d)


def test_train_with_a_one_cycle_schedule_completes(synthetic_data, cpu):
    # OneCycleLR raises if it is stepped more often than it was told, so this checks the step count too.
    history = train(replace(SMALL, schedule="onecycle"), synthetic_data, cpu).history
    assert history.epochs == 2
    assert np.isfinite(history.train_loss).all()


def test_augmentation_changes_training(synthetic_data, cpu):
    plain = train(replace(SMALL, epochs=1), synthetic_data, cpu).history
    augmented = train(replace(SMALL, epochs=1, flip=True, max_shift=2), synthetic_data, cpu).history
    assert augmented.train_loss != plain.train_loss
    assert augmented.val_loss != plain.val_loss


@pytest.fixture
def spies(monkeypatch) -> dict[str, list[dict]]:
    """Record the arguments (by name, defaults filled in) that train() passes to the loader, Adam and FlipShift."""
    calls: dict[str, list[dict]] = {"make_loader": [], "Adam": [], "FlipShift": []}

    def spy(name: str, real):
        signature = inspect.signature(real)

        def record(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            made = real(*args, **kwargs)
            calls[name].append({**bound.arguments, "made": made})
            return made

        return record

    monkeypatch.setattr(experiment, "make_loader", spy("make_loader", make_loader))
    monkeypatch.setattr(experiment, "FlipShift", spy("FlipShift", experiment.FlipShift))
    monkeypatch.setattr(torch.optim, "Adam", spy("Adam", torch.optim.Adam))
    return calls


@pytest.mark.parametrize("function", [train, train_or_load], ids=["train", "train_or_load"])
def test_a_given_device_is_used_without_picking_one(synthetic_data, cache, cpu, monkeypatch, function):
    monkeypatch.setattr(experiment, "pick_device", lambda: pytest.fail("picked a device although one was given"))
    function(replace(SMALL, epochs=1), synthetic_data, cpu)


def test_train_shuffles_the_training_set_with_the_config_seed_and_batch_size(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1, seed=123, batch_size=40), synthetic_data, cpu)
    [train_call] = [c for c in spies["make_loader"] if c["dataset"] is synthetic_data.train]
    assert (train_call["batch_size"], train_call["shuffle"], train_call["seed"]) == (40, True, 123)


def test_train_validates_on_the_validation_set_never_the_test_set(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1), synthetic_data, cpu)
    datasets = [call["dataset"] for call in spies["make_loader"]]
    assert any(d is synthetic_data.val for d in datasets)
    assert not any(d is synthetic_data.test for d in datasets)


def test_train_passes_the_learning_rate_to_adam(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1, lr=3e-3), synthetic_data, cpu)
    [call] = spies["Adam"]
    assert call["lr"] == 3e-3


def test_train_seeds_the_augmentation_with_the_config_seed(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1, seed=77, flip=True, max_shift=1), synthetic_data, cpu)
    [call] = spies["FlipShift"]
    assert (call["flip"], call["max_shift"], call["seed"]) == (True, 1, 77)


@pytest.mark.parametrize("flip, max_shift", [(True, 0), (False, 1)], ids=["flip only", "shift only"])
def test_train_augments_with_either_option_alone(synthetic_data, cpu, spies, flip, max_shift):
    train(replace(SMALL, epochs=1, flip=flip, max_shift=max_shift), synthetic_data, cpu)
    [call] = spies["FlipShift"]
    assert (call["flip"], call["max_shift"]) == (flip, max_shift)


def test_train_steps_the_one_cycle_schedule_once_per_batch(synthetic_data, cpu, spies):
    config = replace(SMALL, schedule="onecycle")
    train(config, synthetic_data, cpu)
    steps = len(make_loader(synthetic_data.train, config.batch_size))
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr)
    schedule = experiment.make_scheduler(config, reference, steps)
    for _ in range(config.epochs * steps):
        reference.step()
        schedule.step()
    [call] = spies["Adam"]
    final_lr = call["made"].param_groups[0]["lr"]
    assert final_lr == pytest.approx(reference.param_groups[0]["lr"])
    assert final_lr < config.lr / 10  # far below the peak: the schedule was applied


def test_train_without_augmentation_builds_none(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1), synthetic_data, cpu)
    assert spies["FlipShift"] == []


def test_the_recorded_validation_accuracy_is_that_of_the_validation_set(synthetic_data, cpu):
    # Test labels shifted by one class: validation and test accuracy of the same model differ.
    test_images, test_labels = synthetic_data.val.tensors
    data = replace(synthetic_data, test=TensorDataset(test_images, (test_labels + 1) % 10))
    result = train(replace(SMALL, epochs=1), data, cpu)
    val_loss, val_acc = evaluate(result.model, make_loader(data.val, batch_size=100), cpu)
    _, test_acc = evaluate(result.model, make_loader(data.test, batch_size=100), cpu)
    assert val_acc != test_acc
    assert result.history.val_acc == [val_acc]
    assert result.history.val_loss[0] == pytest.approx(val_loss, rel=1e-5)


def test_a_batch_larger_than_the_training_set_is_refused_before_training(synthetic_data, cpu, monkeypatch):
    monkeypatch.setattr(experiment, "fit", lambda *args, **kwargs: pytest.fail("trained"))
    with pytest.raises(ValueError, match="batch_size 201 exceeds the 200 training images"):
        train(replace(SMALL, batch_size=201), synthetic_data, cpu)


def test_a_batch_as_large_as_the_training_set_is_allowed(synthetic_data, cpu):
    assert train(replace(SMALL, epochs=1, batch_size=200), synthetic_data, cpu).history.epochs == 1


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
    monkeypatch.setattr(experiment, "train", lambda *args, **kwargs: pytest.fail("trained before finding the error"))


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

    monkeypatch.setattr(experiment, "save_checkpoint", full_disk)
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


def test_a_checkpoint_whose_configuration_is_not_a_dict_is_refused(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    edit_checkpoint(SMALL, synthetic_data, config="tanh, 2 epochs")
    with pytest.raises(CheckpointMismatchError, match=r"another configuration \(differs in every field\)"):
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
