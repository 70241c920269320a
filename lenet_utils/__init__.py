"""Helpers for the book *LeNet-5 on Fashion-MNIST*: data, model, training, checkpoints, plots."""
from .checkpoint import load_checkpoint, save_checkpoint
from .data import CLASS_NAMES, FashionMNIST, find_data_dir, load_fashion_mnist, load_split, make_loader, pixel_stats
from .errors import CheckpointMismatchError, CorruptDataError, DataUnavailableError, LenetError, NonFiniteLossError
from .experiment import TrainConfig, TrainResult, train, train_or_load
from .model import build_lenet, count_parameters, lenet5
from .runtime import DEFAULT_SEED, pick_device, seed_everything
from .train import History, evaluate, fit, predict, train_one_epoch

__all__ = [
    "CLASS_NAMES", "DEFAULT_SEED", "CheckpointMismatchError", "CorruptDataError", "DataUnavailableError",
    "FashionMNIST", "History", "LenetError", "NonFiniteLossError", "TrainConfig", "TrainResult", "build_lenet",
    "count_parameters", "evaluate", "find_data_dir", "fit", "lenet5", "load_checkpoint", "load_fashion_mnist",
    "load_split", "make_loader", "pick_device", "pixel_stats", "predict", "save_checkpoint", "seed_everything",
    "train", "train_one_epoch", "train_or_load",
]
