"""One training configuration: everything that determines a trained model, and the checkpoint name it keys."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path

from torch import nn

from .data import DataSplits
from .model import LENET5_WIDTHS, build_lenet
from .paths import cache_dir
from .runtime import DEFAULT_SEED


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

    def key(self, data: DataSplits) -> str:
        """Short hash of the split and the non-default fields (a new option keeps old keys), naming the checkpoint."""
        changed = {f.name: _plain(value) for f in fields(self) if (value := getattr(self, f.name)) != f.default}
        text = json.dumps({"config": changed, "data": data.fingerprint()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def checkpoint_path(self, data: DataSplits, directory: Path | None = None) -> Path:
        """Where this configuration's model, trained on `data`, is cached."""
        return (directory or cache_dir() / "checkpoints") / f"lenet-{self.activation}-{self.key(data)}.pt"

    def differences(self, saved: dict) -> list[str]:
        """The fields that a checkpoint's recorded configuration `saved` sets otherwise (new fields: defaults)."""
        return [f.name for f in fields(self) if _plain(saved.get(f.name, f.default)) != _plain(getattr(self, f.name))]


def _plain(value: object) -> object:
    """`value` as JSON and a loaded checkpoint hold it: a tuple becomes a list."""
    return list(value) if isinstance(value, tuple) else value
