"""A training configuration and the checkpoint name it keys (lenet_utils.config)."""

from __future__ import annotations

import re
from dataclasses import fields, replace

import pytest
import torch
from torch.utils.data import TensorDataset

from lenet_utils import (
    DEFAULT_SEED,
    TrainConfig,
)

SMALL = TrainConfig(epochs=2, batch_size=50)  # 4 batches per epoch on the synthetic data

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
