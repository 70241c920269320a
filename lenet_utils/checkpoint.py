"""Saving and loading trained models safely: atomic writes, weights-only loads, architecture checks."""

from __future__ import annotations

import io
import os
import pickle
import secrets
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointMismatchError

FORMAT = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save has written zip archives since PyTorch 1.6


def architecture(model: nn.Module) -> list[list]:
    """Describe a model by the name and shape of every tensor in its state dict."""
    return _describe(model.state_dict())


def _describe(state_dict: dict) -> list[list]:
    """Name and shape of every tensor of a state dict."""
    return [[name, list(tensor.shape)] for name, tensor in state_dict.items()]


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
    # Serialize in memory first, so a full disk raises the operating system's OSError, not torch's RuntimeError.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        # 0o666 lets the umask decide the mode, as for any new file: a cache shared by a class stays readable.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
            fh.write(buffer.getbuffer())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _read(path: Path, map_location: str | torch.device) -> object:
    """torch.load with weights_only=True, turning every way a file can be damaged into one clear error."""
    with open(path, "rb") as fh:  # a missing or unreadable file raises the operating system's OSError
        start = fh.read(len(ZIP_MAGIC))
    if not start:
        problem = "is empty"
    elif start != ZIP_MAGIC:
        problem = "is not a PyTorch checkpoint"
    else:
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as exc:
            # The weights-only unpickler names the GLOBAL it refused; any other complaint is a damaged pickle.
            problem = "is damaged or incomplete"
            if "GLOBAL" in str(exc):
                problem = "holds Python objects that could run code when loaded, so it was refused"
        except Exception:  # a damaged archive raises many types (RuntimeError, EOFError, KeyError, ...)
            problem = "is damaged or incomplete"
    raise CheckpointMismatchError(f"{path} {problem}; delete it and train again.")


def _is_pairs(value: object, second: type) -> bool:
    """Whether `value` is a list of [name, `second`] pairs."""
    return isinstance(value, list) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], second)
        for pair in value
    )


def _malformed(payload: dict) -> str | None:
    """The first entry of a format-1 payload that is missing or has the wrong type, or None."""
    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, dict) or not state_dict:
        return "state_dict"
    if not all(isinstance(name, str) and isinstance(t, torch.Tensor) for name, t in state_dict.items()):
        return "state_dict"
    if payload.get("architecture") != _describe(state_dict):
        return "architecture"
    if payload.get("layers") is not None and not _is_pairs(payload["layers"], str):
        return "layers"
    if not all(torch.isfinite(t).all() for t in state_dict.values() if t.is_floating_point()):
        return "state_dict (weights that are not finite)"
    return None


def load_checkpoint(path: str | os.PathLike, model: nn.Module, map_location: str | torch.device = "cpu") -> dict:
    """Load weights into `model` only if the checkpoint's architecture matches; return the whole payload."""
    path = Path(path)
    payload = _read(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointMismatchError(f"{path} was not written by lenet_utils; delete it and train again.")
    bad = _malformed(payload)
    if bad:
        raise CheckpointMismatchError(
            f"{path} has a missing or malformed {bad} entry (edited or damaged); delete it and train again."
        )
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
