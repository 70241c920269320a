"""Helpers for the book *LeNet-5 on Fashion-MNIST*: data, model, training, checkpoints, plots."""

from .activations import capture_outputs
from .checkpoint import load_checkpoint, save_checkpoint
from .data import (
    CLASS_NAMES,
    DataSplits,
    find_data_dir,
    load_fashion_mnist,
    load_split,
    make_loader,
    pixel_stats,
)
from .errors import (
    CacheError,
    CheckpointMismatchError,
    CheckpointNotSavedWarning,
    CorruptDataError,
    DataUnavailableError,
    LenetError,
    NonFiniteLossError,
)
from .experiment import TrainConfig, TrainResult, train, train_or_load
from .loop import History, evaluate, fit, predict, train_one_epoch
from .model import build_lenet, count_parameters, lenet5
from .runtime import DEFAULT_SEED, pick_device, seed_everything

__version__ = "0.2.0"  # the one place the version is defined: pyproject.toml and the install cells read it

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_SEED",
    "CacheError",
    "CheckpointMismatchError",
    "CheckpointNotSavedWarning",
    "CorruptDataError",
    "DataSplits",
    "DataUnavailableError",
    "History",
    "LenetError",
    "NonFiniteLossError",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "build_lenet",
    "capture_outputs",
    "count_parameters",
    "evaluate",
    "find_data_dir",
    "fit",
    "lenet5",
    "load_checkpoint",
    "load_fashion_mnist",
    "load_split",
    "make_loader",
    "pick_device",
    "pixel_stats",
    "predict",
    "save_checkpoint",
    "seed_everything",
    "train",
    "train_one_epoch",
    "train_or_load",
]
