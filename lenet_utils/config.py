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
