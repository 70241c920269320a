"""Training configurations, train-or-load, and the runtime helpers (experiment, runtime, paths)."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.loop as train_module
from lenet_utils import (
    DEFAULT_SEED,
    CheckpointMismatchError,
    NonFiniteLossError,
    TrainConfig,
    pick_device,
    seed_everything,
    train,
    train_or_load,
)
from lenet_utils.paths import cache_dir

SMALL = TrainConfig(epochs=2, batch_size=50)  # 4 batches per epoch on the synthetic data


@pytest.fixture
def ctrl_c_in_epoch(monkeypatch):
    """``ctrl_c_in_epoch(n)`` makes Ctrl-C arrive once, during the n-th training epoch from now on."""

    def install(epoch: int) -> None:
        real = train_module.train_one_epoch
        calls = {"count": 0}

        def train_one_epoch(*args, **kwargs):
            calls["count"] += 1
            if calls["count"] == epoch:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(train_module, "train_one_epoch", train_one_epoch)

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
    assert "relu1" in names and "max_pool1" in names and "relu_conv2" in names


def test_widths_given_as_a_list_are_stored_as_a_tuple(synthetic_data):
    config = TrainConfig(widths=[6, 16, 120, 84])
    assert config.widths == (6, 16, 120, 84)
    assert config.key(synthetic_data) == TrainConfig().key(synthetic_data)


def test_key_is_a_short_stable_hash(synthetic_data):
    key = TrainConfig().key(synthetic_data)
    assert key == TrainConfig().key(synthetic_data)
    assert re.fullmatch(r"[0-9a-f]{12}", key)


@pytest.mark.parametrize(
    "change",
    [
        dict(activation="relu"),
        dict(epochs=6),
        dict(lr=2e-3),
        dict(seed=1),
        dict(flip=True),
        dict(dropout=0.1),
        dict(schedule="onecycle"),
        dict(widths=(6, 16, 120, 100)),
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_changes_the_key(change, synthetic_data):
    assert replace(TrainConfig(), **change).key(synthetic_data) != TrainConfig().key(synthetic_data)


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


def test_cache_dir_follows_the_environment_variable(cache):
    assert cache_dir() == cache


def test_cache_dir_defaults_to_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LENET_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "lenet_utils"


# --------------------------------------------------------------------------- train


def test_train_runs_the_configured_epochs(synthetic_data, cpu):
    result = train(SMALL, synthetic_data, cpu)
    assert result.from_cache is False
    assert result.history.epochs == 2 and not result.history.interrupted
    assert result.history.val_acc[-1] > 0.3  # chance is 0.1


def test_train_builds_the_configured_model(synthetic_data, cpu):
    result = train(replace(SMALL, epochs=1, activation="relu", batch_norm=True), synthetic_data, cpu)
    assert isinstance(result.model.relu1, torch.nn.ReLU)
    assert isinstance(result.model.bn1, torch.nn.BatchNorm2d)


def test_train_with_a_one_cycle_schedule_completes(synthetic_data, cpu):
    # OneCycleLR raises if it is stepped more often than it was told, so this checks the step count too.
    history = train(replace(SMALL, schedule="onecycle"), synthetic_data, cpu).history
    assert history.epochs == 2 and np.isfinite(history.train_loss).all()


def test_augmentation_changes_training(synthetic_data, cpu):
    plain = train(replace(SMALL, epochs=1), synthetic_data, cpu).history
    augmented = train(replace(SMALL, epochs=1, flip=True, max_shift=2), synthetic_data, cpu).history
    assert augmented.train_loss != plain.train_loss
    assert augmented.val_loss != plain.val_loss


# --------------------------------------------------------------------------- train_or_load


def test_train_or_load_saves_the_trained_model_and_its_history(synthetic_data, cache, cpu):
    result = train_or_load(SMALL, synthetic_data, cpu)
    path = SMALL.checkpoint_path(synthetic_data)
    assert result.from_cache is False and path.is_file()
    payload = torch.load(path, weights_only=True)
    assert payload["history"] == result.history.as_dict()
    assert payload["config"]["batch_size"] == 50


def test_train_or_load_uses_the_given_folder(synthetic_data, tmp_path, cache, cpu):
    train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu, directory=tmp_path)
    assert [p.name for p in tmp_path.glob("*.pt")] == [replace(SMALL, epochs=1).checkpoint_path(synthetic_data).name]
    assert not cache.exists()


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
    assert result.history.interrupted and result.history.epochs == 1
    assert not SMALL.checkpoint_path(synthetic_data).exists()


def test_after_an_interrupted_run_the_next_call_trains_again(synthetic_data, cache, cpu, ctrl_c_in_epoch):
    ctrl_c_in_epoch(1)
    assert train_or_load(SMALL, synthetic_data, cpu).history.interrupted
    result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.from_cache is False and result.history.epochs == 2
    assert SMALL.checkpoint_path(synthetic_data).is_file()


def test_a_diverging_run_raises_and_is_not_saved(synthetic_data, cache, cpu):
    config = replace(SMALL, activation="relu", lr=1e20)
    with pytest.raises(NonFiniteLossError, match=r"learning rate 1e\+20"):
        train_or_load(config, synthetic_data, cpu)
    assert not config.checkpoint_path(synthetic_data).exists()


def test_a_damaged_cached_checkpoint_is_reported(synthetic_data, cache, cpu):
    path = SMALL.checkpoint_path(synthetic_data)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(CheckpointMismatchError, match=str(path)):
        train_or_load(SMALL, synthetic_data, cpu)


# --------------------------------------------------------------------------- runtime


def draws() -> tuple:
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seed_everything_repeats_python_numpy_and_torch():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    seed_everything(4)
    assert draws() != first


def test_pick_device_honours_an_explicit_choice():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("cuda:1") == torch.device("cuda", 1)


def test_pick_device_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")


def test_pick_device_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")


def test_pick_device_uses_mps_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")
