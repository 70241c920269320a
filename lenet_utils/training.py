"""Training one configuration: its learning-rate schedule and the run itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .augment import FlipShift
from .config import TrainConfig
from .data import DataSplits, make_loader
from .loop import History, fit
from .runtime import pick_device, seed_everything, training_threads


@dataclass
class TrainResult:
    """A trained model, its history, and how it was obtained: "trained" here, "in the cache" or "downloaded"."""

    model: nn.Sequential
    history: History
    how: str = "trained"

    @property
    def from_cache(self) -> bool:
        """Whether the model was loaded from a checkpoint rather than trained here."""
        return self.how != "trained"


def make_scheduler(
    config: TrainConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule `config` trains with, stepped once per batch (None: constant)."""
    if config.schedule == "constant":
        return None
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, epochs=config.epochs, steps_per_epoch=steps_per_epoch
    )


def learning_rates(config: TrainConfig, steps_per_epoch: int) -> np.ndarray:
    """The learning rate of every optimizer step of training `config` (chapter 5 plots the one-cycle schedule)."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=config.lr)
    scheduler = make_scheduler(config, optimizer, steps_per_epoch)
    rates = []
    for _ in range(config.epochs * steps_per_epoch):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return np.array(rates)


def train(config: TrainConfig, data: DataSplits, device: torch.device | None = None) -> TrainResult:
    """Train `config` on `data.train`, validating on `data.val` after every epoch."""
    if config.batch_size > len(data.train):  # one giant batch per epoch would need gigabytes and learn little
        raise ValueError(f"batch_size {config.batch_size} exceeds the {len(data.train)} training images; use fewer")
    device = device or pick_device()
    if device.type == "cpu":
        training_threads()  # the CPUs other programs leave free; an epoch slows 5x when one thread must share
    seed_everything(config.seed)
    model = config.build_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train_loader = make_loader(data.train, config.batch_size, shuffle=True, seed=config.seed)
    scheduler = make_scheduler(config, optimizer, len(train_loader))
    augment = FlipShift(config.flip, config.max_shift, config.seed) if config.flip or config.max_shift else None
    val_loader = make_loader(data.val, batch_size=1000)
    history = fit(
        model,
        train_loader,
        val_loader=val_loader,
        epochs=config.epochs,
        optimizer=optimizer,
        device=device,
        scheduler=scheduler,
        augment=augment,
    )
    return TrainResult(model, history)
