"""Saving and loading trained models safely: atomic writes, weights-only loads, architecture checks."""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointMismatchError

FORMAT = 1


def architecture(model: nn.Module) -> list[list]:
    """Describe a model by the name and shape of every tensor in its state dict."""
    return [[name, list(tensor.shape)] for name, tensor in model.state_dict().items()]


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **extra: object) -> Path:
    """Write the model's weights and `extra` plain data to `path` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "architecture": architecture(model), "state_dict": model.state_dict(), **extra}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, model: nn.Module, map_location: str | torch.device = "cpu") -> dict:
    """Load weights into `model` only if the checkpoint's architecture matches; return the whole payload."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointMismatchError(
            f"{path} is not a readable checkpoint ({str(exc).splitlines()[0]}); delete it and train again."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "state_dict" not in payload:
        raise CheckpointMismatchError(f"{path} was not written by lenet_utils; delete it and train again.")
    if payload["architecture"] != architecture(model):
        saved = {name for name, _ in payload["architecture"]}
        current = {name for name, _ in architecture(model)}
        differs = sorted(saved ^ current) or ["tensor shapes"]
        raise CheckpointMismatchError(
            f"{path} holds a different architecture (differs in {', '.join(differs[:4])}); "
            "build the model it was trained with, or delete it and train again."
        )
    model.load_state_dict(payload["state_dict"])
    return payload
