"""Saving and loading trained models safely: atomic writes, weights-only loads, architecture checks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointMismatchError

FORMAT = 1


def architecture(model: nn.Module) -> list[list]:
    """Describe a model by the name and shape of every tensor in its state dict."""
    return [[name, list(tensor.shape)] for name, tensor in model.state_dict().items()]


def layers(model: nn.Module) -> list[list[str]]:
    """Name and type of every submodule, so parameter-free layers (activation, pooling) are compared too."""
    return [[name, type(module).__name__] for name, module in model.named_modules() if name]


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **extra: object) -> Path:
    """Write the model's weights and `extra` plain data to `path` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "architecture": architecture(model),
        "layers": layers(model),
        "state_dict": model.state_dict(),
        **extra,
    }
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
    except OSError:
        raise  # missing or unreadable file: the operating system's message says it best
    except Exception as exc:  # damaged files raise many types (EOFError, IndexError, KeyError, ValueError, ...)
        raise CheckpointMismatchError(
            f"{path} is not a readable checkpoint ({next(iter(str(exc).splitlines()), type(exc).__name__)}); "
            "delete it and train again."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "state_dict" not in payload:
        raise CheckpointMismatchError(f"{path} was not written by lenet_utils; delete it and train again.")
    saved_layers = payload.get("layers")  # absent from checkpoints written before layers were recorded
    if payload["architecture"] != architecture(model) or saved_layers not in (None, layers(model)):
        saved = {name for name, _ in payload["architecture"] + (saved_layers or [])}
        current = {name for name, _ in architecture(model) + (layers(model) if saved_layers else [])}
        differs = sorted(saved ^ current) or ["tensor shapes"]
        raise CheckpointMismatchError(
            f"{path} holds a different architecture (differs in {', '.join(differs[:4])}); "
            "build the model it was trained with, or delete it and train again."
        )
    model.load_state_dict(payload["state_dict"])
    return payload
