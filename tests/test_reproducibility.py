"""The same seed gives the same run; a saved model gives the same predictions; the cache is faithful."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.training as training
from lenet_utils import (
    DataSplits,
    TrainConfig,
    load_checkpoint,
    make_loader,
    predict,
    save_checkpoint,
    seed_everything,
    train,
    train_or_load,
)

CONFIG = TrainConfig(epochs=2, batch_size=50)


def without_seconds(history) -> dict:
    metrics = history.as_dict()
    del metrics["seconds"]  # wall-clock time is the one thing allowed to change
    return metrics


def head(dataset: TensorDataset, n: int) -> TensorDataset:
    return TensorDataset(*dataset[:n])


@pytest.fixture(params=["synthetic", pytest.param("real", marks=pytest.mark.real_data)])
def small_data(request) -> DataSplits:
    """A small training budget: the synthetic set, or the first 3,000/1,000/1,000 real images."""
    if request.param == "synthetic":
        return request.getfixturevalue("synthetic_data")
    real = request.getfixturevalue("real_data")
    return DataSplits(
        head(real.train, 3000),
        head(real.val, 1000),
        head(real.test, 1000),
        real.mean,
        real.std,
        real.split_seed,
    )


def test_the_same_seed_gives_the_same_history(small_data, cpu):
    first = train(CONFIG, small_data, cpu).history
    second = train(CONFIG, small_data, cpu).history
    assert without_seconds(first) == without_seconds(second)


def test_the_same_seed_gives_the_same_weights(synthetic_data, cpu):
    first = train(CONFIG, synthetic_data, cpu).model.state_dict()
    second = train(CONFIG, synthetic_data, cpu).model.state_dict()
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_the_same_seed_repeats_augmented_runs_with_dropout(synthetic_data, cpu):
    config = replace(CONFIG, flip=True, max_shift=2, dropout=0.3)
    first = train(config, synthetic_data, cpu).history
    second = train(config, synthetic_data, cpu).history
    assert without_seconds(first) == without_seconds(second)


def test_another_seed_gives_another_history(small_data, cpu):
    first = train(CONFIG, small_data, cpu).history
    other = train(replace(CONFIG, seed=60), small_data, cpu).history
    assert first.train_loss != other.train_loss
    assert first.val_loss != other.val_loss


@pytest.fixture
def same_initial_weights(monkeypatch):
    """Seed the weight initialization with 0 whatever the config says, so only the other uses of the seed act."""
    monkeypatch.setattr(training, "seed_everything", lambda seed: seed_everything(0))


def test_another_seed_reshuffles_the_data_not_only_the_initial_weights(synthetic_data, cpu, same_initial_weights):
    first = train(CONFIG, synthetic_data, cpu).history
    other = train(replace(CONFIG, seed=60), synthetic_data, cpu).history
    assert first.train_loss != other.train_loss


def test_another_seed_draws_other_augmentations(synthetic_data, cpu, same_initial_weights, monkeypatch):
    real = training.make_loader
    monkeypatch.setattr(training, "make_loader", lambda *args, **kwargs: real(*args, **{**kwargs, "seed": 0}))
    config = replace(CONFIG, flip=True, max_shift=2)
    assert (
        train(config, synthetic_data, cpu).history.train_loss
        != train(replace(config, seed=60), synthetic_data, cpu).history.train_loss
    )


def test_a_reloaded_model_predicts_exactly_the_same(synthetic_data, tmp_path, cpu):
    trained = train(CONFIG, synthetic_data, cpu).model
    path = save_checkpoint(tmp_path / "model.pt", trained)
    reloaded = CONFIG.build_model()
    load_checkpoint(path, reloaded)
    loader = make_loader(synthetic_data.test, batch_size=30)
    logits, labels = predict(trained, loader, cpu)
    reloaded_logits, reloaded_labels = predict(reloaded, loader, cpu)
    assert torch.equal(logits, reloaded_logits)
    assert torch.equal(labels, reloaded_labels)


def test_the_second_train_or_load_comes_from_the_cache_unchanged(synthetic_data, cache, cpu):
    first = train_or_load(CONFIG, synthetic_data, cpu)
    second = train_or_load(CONFIG, synthetic_data, cpu)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.history == first.history  # seconds included: they are stored, not re-measured
    loader = make_loader(synthetic_data.test, batch_size=100)
    assert torch.equal(predict(first.model, loader, cpu)[0], predict(second.model, loader, cpu)[0])


def test_the_cache_tells_configurations_apart(synthetic_data, cache, cpu):
    train_or_load(CONFIG, synthetic_data, cpu)
    other = train_or_load(replace(CONFIG, activation="relu"), synthetic_data, cpu)
    assert other.from_cache is False
    assert isinstance(other.model.relu1, torch.nn.ReLU)
    assert len(list((cache / "checkpoints").glob("*.pt"))) == 2
