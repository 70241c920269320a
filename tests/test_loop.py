"""The training loop, evaluation and prediction (lenet_utils.loop)."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from lenet_utils import (
    History,
    LenetError,
    NonFiniteLossError,
    evaluate,
    fit,
    lenet5,
    loop,
    predict,
    train_one_epoch,
)
from lenet_utils.loop import channels_last


def adam(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr)


def weights(model) -> dict[str, torch.Tensor]:
    return copy.deepcopy(model.state_dict())


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def interrupt_at_batch(n: int):
    """An augmentation that lets n-1 batches through, then behaves like Ctrl-C."""
    calls = {"count": 0}

    def augment(images):
        calls["count"] += 1
        if calls["count"] == n:
            raise KeyboardInterrupt
        return images

    return augment


# --------------------------------------------------------------------------- train_one_epoch


def test_epoch_loss_and_accuracy_are_means_over_images_not_batches(model, train_loader, synthetic_data, cpu):
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # no update: every batch sees the same model
    loss, acc = train_one_epoch(model, train_loader, optimizer=frozen, device=cpu)
    images, labels = synthetic_data.train.tensors
    with torch.no_grad():
        logits = model(images)
    assert loss == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert acc == pytest.approx((logits.argmax(1) == labels).float().mean().item())


def tiny_batches(labels: list[int], batch_sizes: list[int], seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of random 1x2x2 images with the given labels, cut into the given batch sizes (a loader stand-in)."""
    images = torch.randn(len(labels), 1, 2, 2, generator=torch.Generator().manual_seed(seed))
    return list(zip(images.split(batch_sizes), torch.tensor(labels).split(batch_sizes), strict=True))


def tiny_model(seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))


def test_epoch_matches_a_hand_written_sgd_loop_over_two_batches(cpu):
    batches = tiny_batches([0, 1, 2, 2, 1], [3, 2])
    model, reference = tiny_model(), tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    loss, acc = train_one_epoch(model, batches, optimizer=optimizer, device=cpu, scheduler=scheduler)
    weights = list(reference.parameters())
    total_loss, correct, lr = 0.0, 0, 0.5
    for images, labels in batches:  # the reference: plain gradient descent, lr halved after every batch
        logits = reference(images)
        batch_loss = F.cross_entropy(logits, labels)
        grads = torch.autograd.grad(batch_loss, weights)
        with torch.no_grad():
            for weight, grad in zip(weights, grads, strict=True):
                weight -= lr * grad
        lr /= 2
        total_loss += batch_loss.item() * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
    for trained, expected in zip(model.parameters(), weights, strict=True):
        assert torch.allclose(trained, expected, atol=1e-6)
    assert loss == pytest.approx(total_loss / 5, rel=1e-6)
    assert acc == correct / 5


def test_epoch_accuracy_counts_images_not_batches(cpu):
    """A model that always answers class 0: 3 of 3 right in the first batch, 0 of 2 in the second."""
    model = tiny_model()
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([5.0, 0.0, 0.0]))
    batches = tiny_batches([0, 0, 0, 1, 1], [3, 2])
    loss, acc = train_one_epoch(model, batches, optimizer=torch.optim.SGD(model.parameters(), lr=0.0), device=cpu)
    assert acc == 3 / 5  # a mean of the batch accuracies would give (1 + 0) / 2
    per_image = F.cross_entropy(
        torch.tensor([[5.0, 0.0, 0.0]]).expand(5, 3), torch.tensor([0, 0, 0, 1, 1]), reduction="none"
    )
    assert loss == pytest.approx(per_image.mean().item(), rel=1e-6)


def constant_logits(first: float) -> torch.nn.Module:
    """A model whose logits are (first, 0, ..., 0) for every image, with one trainable parameter."""

    class Constant(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(first))

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            logits = torch.zeros(len(images), 10)
            logits[:, 0] = self.scale
            return logits

    return Constant()


@pytest.mark.parametrize("first, explodes", [(200.0, False), (240.0, True)])
def test_a_finite_loss_that_explodes_stops_training(cpu, first, explodes):
    """Labels 1 against logits (first, 0, ...): the loss is about `first`; the limit is 100 x ln(10), about 230."""
    batches = tiny_batches([1, 1], [2])
    model = constant_logits(first)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    if explodes:
        with pytest.raises(NonFiniteLossError, match=r"became 240 \(an untrained model starts near 2\.3\) at learn"):
            train_one_epoch(model, batches, optimizer=optimizer, device=cpu)
    else:
        assert train_one_epoch(model, batches, optimizer=optimizer, device=cpu)[0] == pytest.approx(200.0)


# With tanh the loss stays finite (the activations saturate), so only the size of the loss can stop it.
@pytest.mark.parametrize(("activation", "lr"), [("tanh", 1e6), ("relu", 1e20)])
def test_a_huge_learning_rate_stops_training_with_a_clear_error(train_loader, val_loader, cpu, activation, lr):
    torch.manual_seed(0)
    model = lenet5(activation)
    message = f"at learning rate {lr:g}; lower the learning rate and retrain."
    with pytest.raises(NonFiniteLossError, match=re.escape(message)):
        fit(
            model,
            train_loader,
            val_loader=val_loader,
            epochs=3,
            optimizer=adam(model, lr=lr),
            device=cpu,
            log=lambda line: None,
        )


def test_epoch_updates_the_weights(model, train_loader, cpu):
    before = weights(model)
    train_one_epoch(model, train_loader, optimizer=adam(model), device=cpu)
    assert not same_weights(before, model.state_dict())


def test_epoch_puts_the_model_in_training_mode(model, train_loader, cpu):
    model.eval()
    train_one_epoch(model, train_loader, optimizer=adam(model), device=cpu)
    assert model.training


def test_epoch_applies_the_augmentation_to_every_batch(model, train_loader, cpu):
    seen = []
    train_one_epoch(model, train_loader, optimizer=adam(model), device=cpu, augment=lambda x: seen.append(len(x)) or x)
    assert seen == [75, 75, 50]


def test_epoch_steps_the_scheduler_once_per_batch(model, train_loader, cpu):
    optimizer = adam(model, lr=1.0e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    train_one_epoch(model, train_loader, optimizer=optimizer, device=cpu, scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1.0e-3 / 2**3)


# --------------------------------------------------------------------------- non-finite loss


def test_nan_loss_stops_training_and_names_the_learning_rate(model, train_loader, cpu):
    with pytest.raises(NonFiniteLossError, match=r"became nan .* at learning rate 0\.001; lower the learning rate"):
        train_one_epoch(model, train_loader, optimizer=adam(model), device=cpu, augment=lambda x: x * float("nan"))


def test_nan_loss_leaves_the_weights_finite(model, train_loader, cpu):
    before = weights(model)
    with pytest.raises(NonFiniteLossError):
        train_one_epoch(model, train_loader, optimizer=adam(model), device=cpu, augment=lambda x: x * float("nan"))
    assert same_weights(before, model.state_dict())  # the bad batch was never stepped on


def test_non_finite_loss_error_is_a_lenet_and_floating_point_error():
    assert issubclass(NonFiniteLossError, LenetError)
    assert issubclass(NonFiniteLossError, FloatingPointError)


# --------------------------------------------------------------------------- predict and evaluate


def test_predict_returns_cpu_logits_and_labels_in_loader_order(model, val_loader, synthetic_data, cpu):
    logits, labels = predict(model, val_loader, cpu)
    assert logits.shape == (100, 10)
    assert logits.device.type == "cpu"
    assert not logits.requires_grad
    assert torch.equal(labels, synthetic_data.val.tensors[1])
    with torch.no_grad():
        assert torch.allclose(logits, model(synthetic_data.val.tensors[0]), atol=1e-6)


def test_predict_switches_to_evaluation_mode(val_loader, cpu):
    model = lenet5()
    model.train()
    predict(model, val_loader, cpu)
    assert not model.training


def test_evaluate_returns_mean_loss_and_accuracy(model, val_loader, cpu):
    logits, labels = predict(model, val_loader, cpu)
    loss, acc = evaluate(model, val_loader, cpu)
    assert loss == pytest.approx(F.cross_entropy(logits, labels).item())
    assert acc == pytest.approx((logits.argmax(1) == labels).sum().item() / 100)
    assert 0.0 <= acc <= 1.0


# --------------------------------------------------------------------------- channels_last


def conv_weights_are_channels_last(model: torch.nn.Module) -> list[bool]:
    # conv1's weights (one input channel) are laid out the same either way, so only the others can tell.
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1]
    return [m.weight.is_contiguous(memory_format=torch.channels_last) and not m.weight.is_contiguous() for m in convs]


def test_channels_last_changes_the_layout_inside_and_restores_it_after(model, cpu):
    before = {name: value.clone() for name, value in model.state_dict().items()}
    with channels_last(model, cpu) as inside:
        assert inside is model
        assert all(conv_weights_are_channels_last(model))
    assert not any(conv_weights_are_channels_last(model)), "the usual layout is back"
    assert all(p.is_contiguous() for p in model.parameters())
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items()), "values kept"


def test_channels_last_restores_the_layout_when_training_fails(model, cpu):
    with pytest.raises(KeyboardInterrupt), channels_last(model, cpu):
        raise KeyboardInterrupt
    assert all(p.is_contiguous() for p in model.parameters())


def test_channels_last_leaves_a_model_for_another_device_alone(model):
    with channels_last(model, torch.device("cuda")):
        assert not any(conv_weights_are_channels_last(model))


# --------------------------------------------------------------------------- fit


def test_fit_records_every_metric_once_per_epoch(model, train_loader, val_loader, cpu):
    history = fit(
        model, train_loader, val_loader=val_loader, epochs=2, optimizer=adam(model), device=cpu, log=lambda line: None
    )
    assert history.epochs == 2
    for values in (history.train_loss, history.train_acc, history.val_loss, history.val_acc, history.seconds):
        assert len(values) == 2
    assert all(0.0 <= acc <= 1.0 for acc in history.train_acc + history.val_acc)
    assert all(s > 0 for s in history.seconds)
    assert not history.interrupted


def test_fit_times_each_epoch_within_the_call(model, train_loader, val_loader, cpu):
    started = time.perf_counter()
    history = fit(
        model, train_loader, val_loader=val_loader, epochs=2, optimizer=adam(model), device=cpu, log=lambda line: None
    )
    assert 0 < sum(history.seconds) <= time.perf_counter() - started


def test_an_epochs_seconds_include_its_validation(model, train_loader, val_loader, cpu, monkeypatch):
    """On a clock that only training (10 s) and validation (100 s) advance, each epoch lasts 110 s."""
    clock = [0.0]

    def advancing(seconds: float, step: Callable) -> Callable:
        def timed(*args, **kwargs):
            clock[0] += seconds
            return step(*args, **kwargs)

        return timed

    monkeypatch.setattr(loop.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(loop, "train_one_epoch", advancing(10, loop.train_one_epoch))
    monkeypatch.setattr(loop, "evaluate", advancing(100, loop.evaluate))
    history = fit(
        model, train_loader, val_loader=val_loader, epochs=2, optimizer=adam(model), device=cpu, log=lambda line: None
    )
    assert history.seconds == [110.0, 110.0]


def test_fit_learns_the_synthetic_task(model, train_loader, val_loader, cpu):
    history = fit(
        model, train_loader, val_loader=val_loader, epochs=3, optimizer=adam(model), device=cpu, log=lambda line: None
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.5  # chance is 0.1


def test_fit_logs_one_line_per_epoch(model, train_loader, val_loader, cpu):
    lines = []
    fit(model, train_loader, val_loader=val_loader, epochs=2, optimizer=adam(model), device=cpu, log=lines.append)
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2 | train loss ")
    assert lines[1].startswith("epoch 2/2 | ")


def test_ctrl_c_keeps_the_finished_epochs(model, train_loader, val_loader, cpu):
    lines = []
    history = fit(
        model,
        train_loader,
        val_loader=val_loader,
        epochs=3,
        optimizer=adam(model),
        device=cpu,
        augment=interrupt_at_batch(5),
        log=lines.append,
    )  # 3 batches per epoch: batch 5 is in epoch 2
    assert history.interrupted
    assert history.epochs == 1
    assert len(history.val_acc) == len(history.seconds) == 1
    assert lines[-1] == "interrupted: kept the history of 1 finished epoch(s)"


def test_ctrl_c_in_the_first_epoch_gives_an_empty_interrupted_history(model, train_loader, val_loader, cpu):
    history = fit(
        model,
        train_loader,
        val_loader=val_loader,
        epochs=2,
        optimizer=adam(model),
        device=cpu,
        augment=interrupt_at_batch(1),
        log=lambda line: None,
    )
    assert history.interrupted
    assert history.epochs == 0


def test_fit_lets_a_non_finite_loss_through(model, train_loader, val_loader, cpu):
    with pytest.raises(NonFiniteLossError):
        fit(
            model,
            train_loader,
            val_loader=val_loader,
            epochs=2,
            optimizer=adam(model),
            device=cpu,
            augment=lambda x: x * float("inf"),
            log=lambda line: None,
        )


# --------------------------------------------------------------------------- History


@pytest.fixture
def history() -> History:
    return History(
        train_loss=[0.9, 0.5],
        train_acc=[0.7, 0.8125],
        val_loss=[0.6, 0.45],
        val_acc=[0.75, 0.84],
        seconds=[8.04, 7.96],
    )


def test_history_counts_completed_epochs(history):
    assert history.epochs == 2
    assert History().epochs == 0


def test_history_round_trips_through_a_plain_dict(history):
    data = history.as_dict()
    assert data["train_acc"] == [0.7, 0.8125]
    assert data["interrupted"] is False
    assert History.from_dict(data) == history


NEEDS_ENTRIES = "a history needs exactly the entries train_loss, train_acc, val_loss, val_acc, seconds and interrupted"
NEEDS_NUMBERS = "every metric of a history must be a list of numbers"
NEEDS_EPOCHS = "a history needs one value per epoch for every metric, and interrupted True or False"


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(train_acc=[0.7]), NEEDS_EPOCHS),
        (dict(val_loss="0.6"), NEEDS_NUMBERS),
        (dict(seconds=[1.0, "2"]), NEEDS_NUMBERS),
        (dict(interrupted="no"), NEEDS_EPOCHS),
        (dict(extra=[1.0, 2.0]), NEEDS_ENTRIES),
        (dict(train_loss=None), NEEDS_ENTRIES),
    ],
    ids=[
        "lengths differ",
        "a metric not a list",
        "a value not a number",
        "interrupted not a bool",
        "an unknown entry",
        "a metric missing",
    ],
)
def test_history_from_a_malformed_dict_is_a_value_error(history, change, message):
    data = {**history.as_dict(), **change}
    data = {key: value for key, value in data.items() if value is not None}
    with pytest.raises(ValueError) as excinfo:
        History.from_dict(data)
    assert str(excinfo.value) == message


def test_history_from_something_not_a_dict_is_a_value_error():
    with pytest.raises(ValueError, match="history"):
        History.from_dict([1, 2])


def test_history_epoch_line_shows_percentages(history):
    assert history.epoch_line(1) == ("epoch 2/2 | train loss 0.5000 acc 81.25% | val loss 0.4500 acc 84.00% | 8.0 s")
    assert history.epoch_line(0, total=5).startswith("epoch 1/5 |")
