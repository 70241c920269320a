"""Train-or-load keyed by the configuration, so the book trains each model once: the cache of checkpoints.

A checkpoint comes from the cache, else (when asked) from the book's release, else from training here; one the
cache holds but that fails its checks is moved aside (quarantined) as NAME.corrupt.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict
from pathlib import Path

import torch

from .checkpoint import (
    CheckpointDigestError,
    load_checkpoint,
    move_aside,
    remove_stale_temporaries,
    save_checkpoint,
    write_atomically,
)
from .config import TrainConfig
from .data import DataSplits
from .errors import CacheError, CheckpointMismatchError, CheckpointNotSavedWarning, CheckpointRefusedWarning
from .loop import History
from .paths import CACHE_ENV, unwritable_reason
from .release import download
from .runtime import pick_device
from .training import TrainResult, train


def train_or_load(
    config: TrainConfig,
    data: DataSplits,
    device: torch.device | None = None,
    *,
    fetch: bool = False,
    directory: str | os.PathLike | None = None,
    show_log: bool = True,
) -> TrainResult:
    """Load `config`'s verified checkpoint; else, with `fetch`, download the book's; else train and save it.

    A cached checkpoint that fails its SHA-256 check is moved aside (NAME.corrupt) with a warning and replaced.
    A download is used only if it matches the digest the package holds; otherwise one line says why, and the
    model is trained here. An interrupted run is never saved. `show_log` prints a loaded model's training log.
    """
    device = device or pick_device()
    path = config.checkpoint_path(data, None if directory is None else Path(directory))
    remove_stale_temporaries(path.parent)
    if os.path.exists(path):
        try:
            return _load_trained(config, path, device, show_log, "in the cache")
        except CheckpointDigestError as exc:
            _move_aside(path, exc, "fetching" if fetch else "training")
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
                return _load_trained(config, path, device, show_log, "downloaded")
            except CheckpointMismatchError as exc:  # released for another version of the code: train instead
                _move_aside(path, exc, "training")
    result = train(config, data, device)
    if not result.history.interrupted:
        try:
            save_checkpoint(path, result.model, config=asdict(config), history=result.history.as_dict())
        except OSError as exc:  # the disk filled up or the folder changed while training: keep the model
            warnings.warn(
                f"could not save the trained model in {path.parent} ({exc.strerror}); it is returned, but it will "
                f"be trained again next time unless you free space there or set {CACHE_ENV} to a writable folder.",
                CheckpointNotSavedWarning,
                stacklevel=2,
            )
    return result


def _move_aside(path: Path, refusal: CheckpointMismatchError, next_step: str) -> None:
    """Keep a refused checkpoint as NAME.corrupt and say so in one line, so the model can be obtained again."""
    problem = str(refusal).removesuffix("; delete it and train again.")
    try:
        aside = move_aside(path)
    except OSError as exc:
        raise CacheError(
            f"{problem}, and it could not be moved aside ({exc.strerror}); delete it, or set {CACHE_ENV} to a "
            "folder of your own."
        ) from None
    warnings.warn(f"{problem}; moved it aside to {aside.name} and {next_step} it again.", CheckpointRefusedWarning, 3)


def _load_trained(config: TrainConfig, path: Path, device: torch.device, show_log: bool, how: str) -> TrainResult:
    """Load `config`'s model from `path`, checking the configuration and history the checkpoint records."""
    model = config.build_model()
    try:
        payload = load_checkpoint(path, model)
    except OSError as exc:
        raise CacheError(
            f"cannot read {path} ({exc.strerror}); fix its permissions or delete it, "
            f"or set {CACHE_ENV} to a folder of your own."
        ) from None
    saved = payload.get("config")
    if not isinstance(saved, dict):
        raise CheckpointMismatchError(f"{path} records no training configuration; delete it and train again.")
    differs = config.differences(saved)
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
    return TrainResult(model.to(device), history, how)
