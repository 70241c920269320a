"""The training loop, evaluation and prediction (lenet_utils.loop)."""

from __future__ import annotations

import copy

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
    predict,
    train_one_epoch,
)


def adam(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr)


def weights(model) -> dict[str, torch.Tensor]:
    return copy.deepcopy(model.state_dict())


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def interrupt_at_batch(n: int):
    """A transform that lets n-1 batches through, then behaves like Ctrl-C."""
    calls = {"count": 0}

    def transform(images):
        calls["count"] += 1
        if calls["count"] == n:
            raise KeyboardInterrupt
        return images

    return transform


# --------------------------------------------------------------------------- train_one_epoch


def test_epoch_loss_and_accuracy_are_means_over_images_not_batches(model, train_loader, synthetic_data, cpu):
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # no update: every batch sees the same model
    loss, acc = train_one_epoch(model, train_loader, frozen, cpu)
    images, labels = synthetic_data.train.tensors
    with torch.no_grad():
        logits = model(images)
    assert loss == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert acc == pytest.approx((logits.argmax(1) == labels).float().mean().item())


def test_epoch_updates_the_weights(model, train_loader, cpu):
    before = weights(model)
    train_one_epoch(model, train_loader, adam(model), cpu)
    assert not same_weights(before, model.state_dict())


def test_epoch_puts_the_model_in_training_mode(model, train_loader, cpu):
    model.eval()
    train_one_epoch(model, train_loader, adam(model), cpu)
    assert model.training


def test_epoch_applies_the_transform_to_every_batch(model, train_loader, cpu):
    seen = []
    train_one_epoch(model, train_loader, adam(model), cpu, transform=lambda x: seen.append(len(x)) or x)
    assert seen == [75, 75, 50]


def test_epoch_steps_the_scheduler_once_per_batch(model, train_loader, cpu):
    optimizer = adam(model, lr=1.0e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    train_one_epoch(model, train_loader, optimizer, cpu, scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1.0e-3 / 2**3)


# --------------------------------------------------------------------------- non-finite loss


def test_nan_loss_stops_training_and_names_the_learning_rate(model, train_loader, cpu):
    with pytest.raises(NonFiniteLossError, match=r"became nan at learning rate 0\.001; lower the learning rate"):
        train_one_epoch(model, train_loader, adam(model), cpu, transform=lambda x: x * float("nan"))


def test_nan_loss_leaves_the_weights_finite(model, train_loader, cpu):
    before = weights(model)
    with pytest.raises(NonFiniteLossError):
        train_one_epoch(model, train_loader, adam(model), cpu, transform=lambda x: x * float("nan"))
    assert same_weights(before, model.state_dict())  # the bad batch was never stepped on


def test_non_finite_loss_error_is_a_lenet_and_floating_point_error():
    assert issubclass(NonFiniteLossError, LenetError) and issubclass(NonFiniteLossError, FloatingPointError)


def test_a_huge_learning_rate_diverges_with_a_clear_error(train_loader, val_loader, cpu):
    torch.manual_seed(0)
    model = lenet5("relu")
    with pytest.raises(NonFiniteLossError, match=r"at learning rate 1e\+20"):
        fit(model, train_loader, val_loader, 3, adam(model, lr=1e20), cpu, log=lambda line: None)


# --------------------------------------------------------------------------- predict and evaluate


def test_predict_returns_cpu_logits_and_labels_in_loader_order(model, val_loader, synthetic_data, cpu):
    logits, labels = predict(model, val_loader, cpu)
    assert logits.shape == (100, 10) and logits.device.type == "cpu"
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


# --------------------------------------------------------------------------- fit


def test_fit_records_every_metric_once_per_epoch(model, train_loader, val_loader, cpu):
    history = fit(model, train_loader, val_loader, 2, adam(model), cpu, log=lambda line: None)
    assert history.epochs == 2
    for values in (history.train_loss, history.train_acc, history.val_loss, history.val_acc, history.seconds):
        assert len(values) == 2
    assert all(0.0 <= acc <= 1.0 for acc in history.train_acc + history.val_acc)
    assert all(s > 0 for s in history.seconds)
    assert not history.interrupted


def test_fit_learns_the_synthetic_task(model, train_loader, val_loader, cpu):
    history = fit(model, train_loader, val_loader, 3, adam(model), cpu, log=lambda line: None)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.5  # chance is 0.1


def test_fit_logs_one_line_per_epoch(model, train_loader, val_loader, cpu):
    lines = []
    fit(model, train_loader, val_loader, 2, adam(model), cpu, log=lines.append)
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2 | train loss ") and lines[1].startswith("epoch 2/2 | ")


def test_ctrl_c_keeps_the_finished_epochs(model, train_loader, val_loader, cpu):
    lines = []
    history = fit(
        model,
        train_loader,
        val_loader,
        3,
        adam(model),
        cpu,
        transform=interrupt_at_batch(5),
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
        val_loader,
        2,
        adam(model),
        cpu,
        transform=interrupt_at_batch(1),
        log=lambda line: None,
    )
    assert history.interrupted and history.epochs == 0


def test_fit_lets_a_non_finite_loss_through(model, train_loader, val_loader, cpu):
    with pytest.raises(NonFiniteLossError):
        fit(
            model,
            train_loader,
            val_loader,
            2,
            adam(model),
            cpu,
            transform=lambda x: x * float("inf"),
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
    assert history.epochs == 2 and History().epochs == 0


def test_history_round_trips_through_a_plain_dict(history):
    data = history.as_dict()
    assert data["train_acc"] == [0.7, 0.8125] and data["interrupted"] is False
    assert History.from_dict(data) == history


def test_history_epoch_line_shows_percentages(history):
    assert history.epoch_line(1) == ("epoch 2/2 | train loss 0.5000 acc 81.25% | val loss 0.4500 acc 84.00% | 8.0 s")
    assert history.epoch_line(0, total=5).startswith("epoch 1/5 |")
