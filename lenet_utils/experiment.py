"""One training configuration, and train-or-load keyed by it so the book trains each model once."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .augment import FlipShift
from .checkpoint import (
    CheckpointDigestError,
    load_checkpoint,
    move_aside,
    remove_stale_temporaries,
    save_checkpoint,
    write_atomically,
)
from .data import DataSplits, make_loader
from .errors import CacheError, CheckpointMismatchError, CheckpointNotSavedWarning, CheckpointRefusedWarning
from .loop import History, fit
from .model import LENET5_WIDTHS, build_lenet
from .paths import CACHE_ENV, cache_dir, unwritable_reason
from .release import download
from .runtime import DEFAULT_SEED, pick_device, seed_everything, training_threads


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model; defaults are the original post's protocol."""

    activation: str = "tanh"
    epochs: int = 5
    batch_size: int = 100
    lr: float = 1e-3
    seed: int = DEFAULT_SEED
    act_after_conv2: bool = False
    pool: str = "avg"
    batch_norm: bool = False
    dropout: float = 0.0
    widths: tuple[int, int, int, int] = LENET5_WIDTHS
    flip: bool = False
    max_shift: int = 0
    schedule: str = "constant"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be positive, got {self.epochs} and {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.schedule not in ("constant", "onecycle"):
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of: constant, onecycle")
        object.__setattr__(self, "widths", tuple(self.widths))
        self.build_model()  # fail now, not after minutes of data loading, on a bad activation or pool

    def build_model(self) -> nn.Sequential:
        """Build the untrained network this configuration describes."""
        return build_lenet(self.activation, self.act_after_conv2, self.pool, self.batch_norm, self.dropout, self.widths)

    def changed_fields(self) -> dict:
        """The fields that differ from their defaults, so a new option leaves older checkpoints valid."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    def key(self, data: DataSplits) -> str:
        """Short stable hash of the non-default fields and the data split, used to name its checkpoint."""
        changed = {name: list(v) if isinstance(v, tuple) else v for name, v in self.changed_fields().items()}
        text = json.dumps({"config": changed, "data": data.fingerprint()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def checkpoint_path(self, data: DataSplits, directory: Path | None = None) -> Path:
        """Where this configuration's model, trained on `data`, is cached."""
        return (directory or cache_dir() / "checkpoints") / f"lenet-{self.activation}-{self.key(data)}.pt"


@dataclass
class TrainResult:
    """A trained model, its history, and whether it came from the cache."""

    model: nn.Sequential
    history: History
    from_cache: bool


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
    """The learning rate of every optimizer step of training `config`, from the schedule training uses.

    Explained in chapter 5, which plots the one-cycle schedule with it.
    """
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
    return TrainResult(model, history, from_cache=False)


def train_or_load(
    config: TrainConfig,
    data: DataSplits,
    device: torch.device | None = None,
    *,
    fetch: bool = False,
    directory: str | os.PathLike | None = None,
) -> TrainResult:
    """Load `config`'s verified checkpoint; else, with `fetch`, download the book's; else train and save it.

    A cached checkpoint that fails its SHA-256 check is moved aside (NAME.corrupt) with a warning and replaced.
    A download is used only if it matches the digest the package holds; otherwise one line says why, and the
    model is trained here. An interrupted run is never saved.
    """
    return obtain(config, data, device, fetch=fetch, directory=directory)[0]


def obtain(
    config: TrainConfig,
    data: DataSplits,
    device: torch.device | None = None,
    *,
    fetch: bool = False,
    directory: str | os.PathLike | None = None,
    show_log: bool = True,
    stacklevel: int = 3,
) -> tuple[TrainResult, str]:
    """What train_or_load does, and how the model was obtained: "in the cache", "downloaded" or "trained"."""
    device = device or pick_device()
    path = config.checkpoint_path(data, None if directory is None else Path(directory))
    remove_stale_temporaries(path.parent)
    if os.path.exists(path):
        try:
            return _load_trained(config, path, device, show_log), "in the cache"
        except CheckpointDigestError as exc:
            _move_aside(path, exc, "fetching" if fetch else "training", stacklevel + 1)
    weights = sum(t.numel() * t.element_size() for t in config.build_model().state_dict().values())
    problem = unwritable_reason(path.parent, weights + 2**16)  # check before training, not after minutes of it
    if problem:
        raise CacheError(
            f"cannot save checkpoints in {path.parent} ({problem}); "
            f"set {CACHE_ENV} (or pass directory=) to a writable folder."
        )
    if fetch:
        released, where = download(path.name)
        if released is not None:
            try:
                write_atomically(path, released)
            except OSError as exc:  # the disk filled up: training will say whether its checkpoint fits
                released, where = None, f"the download could not be saved in {path.parent} ({exc.strerror})"
        if released is None:
            if where:  # empty when fetching is off: the reader (or the reference run) asked for training
                print(f"training {path.name} here: {where}.")
        else:
            print(f"downloaded the book's trained weights {path.name} from {where} (SHA-256 verified)")
            try:
                return _load_trained(config, path, device, show_log), "downloaded"
            except CheckpointMismatchError as exc:  # released for another version of the code: train instead
                _move_aside(path, exc, "training", stacklevel + 1)
    result = train(config, data, device)
    if not result.history.interrupted:
        try:
            save_checkpoint(path, result.model, config=asdict(config), history=result.history.as_dict())
        except OSError as exc:  # the disk filled up or the folder changed while training: keep the model
            warnings.warn(
                f"could not save the trained model in {path.parent} ({exc.strerror}); it is returned, but it will "
                f"be trained again next time unless you free space there or set {CACHE_ENV} to a writable folder.",
                CheckpointNotSavedWarning,
                stacklevel=stacklevel,
            )
    return result, "trained"


def _move_aside(path: Path, refusal: CheckpointMismatchError, next_step: str, stacklevel: int) -> None:
    """Keep a refused checkpoint as NAME.corrupt and say so in one line, so the model can be obtained again."""
    problem = str(refusal).removesuffix("; delete it and train again.")
    try:
        aside = move_aside(path)
    except OSError as exc:
        raise CacheError(
            f"{problem}, and it could not be moved aside ({exc.strerror}); delete it, or set {CACHE_ENV} to a "
            "folder of your own."
        ) from None
    warnings.warn(
        f"{problem}; moved it aside to {aside.name} and {next_step} it again.", CheckpointRefusedWarning, stacklevel
    )


def _load_trained(config: TrainConfig, path: Path, device: torch.device, show_log: bool = True) -> TrainResult:
    """Load `config`'s model from `path`, checking the configuration and history the checkpoint records."""
    model = config.build_model()
    try:
        payload = load_checkpoint(path, model)
    except OSError as exc:
        raise CacheError(
            f"cannot read {path} ({exc.strerror}); fix its permissions or delete it, "
            f"or set {CACHE_ENV} to a folder of your own."
        ) from None
    differs = _config_differences(config, payload.get("config"))
    if differs:
        raise CheckpointMismatchError(
            f"{path} was trained with another configuration (differs in {', '.join(differs)}); "
            "delete it and train again."
        )
    try:
        history = History.from_dict(payload.get("history"))
    except ValueError as exc:
        raise CheckpointMismatchError(f"{path} holds a malformed history ({exc}); delete it and train again.") from None
    if history.epochs != config.epochs:
        raise CheckpointMismatchError(
            f"{path} holds the history of {history.epochs} finished epochs, not {config.epochs}; "
            "delete it and train again."
        )
    if show_log:
        print(f"loaded the trained model from the checkpoint {path.name}; its training log was:")
        for epoch in range(history.epochs):
            print(history.epoch_line(epoch))
    return TrainResult(model.to(device), history, from_cache=True)


def _config_differences(config: TrainConfig, saved: object) -> list[str]:
    """Fields that a checkpoint's recorded `saved` config sets otherwise (fields added since: their defaults)."""
    if not isinstance(saved, dict):
        return ["every field"]

    def plain(value: object) -> object:
        return list(value) if isinstance(value, tuple) else value

    return [f.name for f in fields(config) if plain(saved.get(f.name, f.default)) != plain(getattr(config, f.name))]
