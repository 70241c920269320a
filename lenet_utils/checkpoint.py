"""Saving and loading trained models safely: atomic writes, SHA-256 seals, weights-only loads, architecture checks.

A checkpoint file is what `torch.save` wrote, followed by one line that holds the SHA-256 digest of those bytes
(its seal). File and digest are written together by one rename, so no reader and no concurrent writer ever sees
one without the other, and a changed byte anywhere is refused before PyTorch reads anything.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import secrets
import time
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointMismatchError
from .sigterm import sigterm_as_interrupt

FORMAT = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save has written zip archives since PyTorch 1.6
SEAL_PREFIX = b"\nlenet-sha256 "
SEAL_LENGTH = len(SEAL_PREFIX) + 64 + 1  # the prefix, 64 hex digits, a newline
SEAL = re.compile(re.escape(SEAL_PREFIX) + rb"([0-9a-f]{64})\n")
# A temporary file of save_checkpoint: .NAME.<pid>-<8 hex digits>.tmp, renamed to NAME when complete.
TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp")
STALE_AFTER_DEATH_SECONDS = 60  # a writer on another machine sharing the folder has a pid we cannot see
STALE_SECONDS = 24 * 3600  # older than any save, whatever its pid says (pids are reused)


class CheckpointDigestError(CheckpointMismatchError):
    """A checkpoint's bytes do not match the SHA-256 digest it was sealed with, or it has none."""


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of `data` in hexadecimal."""
    return hashlib.sha256(data).hexdigest()


def seal(data: bytes) -> bytes:
    """`data` followed by the line that records its SHA-256 digest."""
    return data + SEAL_PREFIX + sha256_hex(data).encode() + b"\n"


def unseal(data: bytes, path: Path) -> bytes:
    """The bytes `data` sealed, after checking them against their digest; CheckpointDigestError if they differ."""
    found = SEAL.fullmatch(data[-SEAL_LENGTH:])
    if not found:
        if not data:
            problem = "is empty"
        elif not data.startswith(ZIP_MAGIC):
            problem = "is not a PyTorch checkpoint"
        else:
            problem = "has no SHA-256 digest at its end (it is incomplete, or was saved before checkpoints had one)"
        raise CheckpointDigestError(f"{path} {problem}; delete it and train again.")
    body = data[:-SEAL_LENGTH]
    if sha256_hex(body) != found[1].decode():
        raise CheckpointDigestError(
            f"{path} does not match the SHA-256 digest it was saved with (damaged or edited); "
            "delete it and train again."
        )
    return body


def write_atomically(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file and a rename, so `path` is never seen half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    with sigterm_as_interrupt():  # a stop by the system cleans up like Ctrl-C
        try:
            # 0o666 lets the umask decide the mode, as for any new file: a cache shared by a class stays readable.
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path


def _alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine (assumed so where that cannot be asked safely)."""
    if os.name == "nt":  # os.kill on Windows ends the process instead of asking about it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, run by someone else
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary checkpoint files left in `folder` by processes killed while saving; return them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no folder yet, or one we may not list: nothing of ours to clean
        return removed
    now = time.time()
    for entry in entries:
        match = TEMPORARY.fullmatch(entry.name)
        if not match or not match["name"].startswith("lenet-") or not match["name"].endswith(".pt"):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            dead = int(match["pid"]) != os.getpid() and not _alive(int(match["pid"]))
            if age > STALE_SECONDS or (dead and age > STALE_AFTER_DEATH_SECONDS):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # removed meanwhile by another process, or not ours to remove
            continue
    return removed


def move_aside(path: Path) -> Path:
    """Rename a refused checkpoint to NAME.corrupt (NAME.2.corrupt, ... if taken), keeping it; return the new path."""
    number = 1
    while True:
        target = path.with_name(f"{path.name}.corrupt" if number == 1 else f"{path.name}.{number}.corrupt")
        if not os.path.lexists(target):
            os.replace(path, target)
            return target
        number += 1


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
    """Write the model's weights and `extra` plain data to `path`, sealed with their digest, atomically."""
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
    return write_atomically(path, seal(buffer.getvalue()))


def _read(path: Path, map_location: str | torch.device) -> object:
    """The verified payload of `path`, loaded with weights_only=True; every kind of damage is one clear error."""
    body = unseal(path.read_bytes(), path)  # a missing or unreadable file raises the operating system's OSError
    try:
        return torch.load(io.BytesIO(body), map_location=map_location, weights_only=True)
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
    if not _is_pairs(payload.get("layers"), str):
        return "layers"
    if not all(torch.isfinite(t).all() for t in state_dict.values() if t.is_floating_point()):
        return "state_dict (weights that are not finite)"
    return None


def load_checkpoint(path: str | os.PathLike, model: nn.Module, map_location: str | torch.device = "cpu") -> dict:
    """Load weights into `model` only if the checkpoint's architecture matches; return the whole payload."""
    path = Path(path)
    payload = _read(path, map_location)
    written_as = payload.get("format") if isinstance(payload, dict) else None
    if isinstance(written_as, int) and written_as > FORMAT:
        raise CheckpointMismatchError(
            f"{path} was written by a newer lenet_utils (checkpoint format {written_as}; this one reads {FORMAT}); "
            "upgrade lenet_utils to load it, or delete it and train again."
        )
    if written_as != FORMAT:
        raise CheckpointMismatchError(f"{path} was not written by lenet_utils; delete it and train again.")
    bad = _malformed(payload)
    if bad:
        raise CheckpointMismatchError(
            f"{path} has a missing or malformed {bad} entry (edited or damaged); delete it and train again."
        )
    if payload["architecture"] != architecture(model) or payload["layers"] != layers(model):
        saved = {name for name, _ in payload["architecture"] + payload["layers"]}
        current = {name for name, _ in architecture(model) + layers(model)}
        differs = sorted(saved ^ current) or ["tensor shapes"]
        raise CheckpointMismatchError(
            f"{path} holds a different architecture (differs in {', '.join(differs[:4])}); "
            "build the model it was trained with, or delete it and train again."
        )
    model.load_state_dict(payload["state_dict"])
    return payload
