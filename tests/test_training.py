"""Training one configuration: its schedule and the run (lenet_utils.training)."""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.cache as cache_module
import lenet_utils.training as training
from lenet_utils import (
    TrainConfig,
    evaluate,
    learning_rates,
    make_loader,
    train,
    train_or_load,
)

SMALL = TrainConfig(epochs=2, batch_size=50)  # 4 batches per epoch on the synthetic data

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

    monkeypatch.setattr(training, "make_loader", spy("make_loader", make_loader))
    monkeypatch.setattr(training, "FlipShift", spy("FlipShift", training.FlipShift))
    monkeypatch.setattr(torch.optim, "Adam", spy("Adam", torch.optim.Adam))
    return calls


@pytest.mark.parametrize("function", [train, train_or_load], ids=["train", "train_or_load"])
def test_a_given_device_is_used_without_picking_one(synthetic_data, cache, cpu, monkeypatch, function):
    for module in (training, cache_module):
        monkeypatch.setattr(module, "pick_device", lambda: pytest.fail("picked a device although one was given"))
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
    schedule = training.make_scheduler(config, reference, steps)
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
    monkeypatch.setattr(training, "fit", lambda *args, **kwargs: pytest.fail("trained"))
    with pytest.raises(ValueError, match="batch_size 201 exceeds the 200 training images"):
        train(replace(SMALL, batch_size=201), synthetic_data, cpu)


def test_a_batch_as_large_as_the_training_set_is_allowed(synthetic_data, cpu):
    assert train(replace(SMALL, epochs=1, batch_size=200), synthetic_data, cpu).history.epochs == 1
