"""Helpers for the book *LeNet-5 on Fashion-MNIST*: data, model, training, checkpoints, plots.

Every public name is imported from the top level, `from lenet_utils import fit, plot_histories`. The
submodules load on first use, so `import lenet_utils` is quick and `python -m lenet_utils` can answer
Ctrl-C before PyTorch has loaded.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"  # defined only here: pyproject.toml reads it, a test checks the install cells pin it

# Public names by the module that defines them, in the order the chapters meet them.
_PUBLIC: dict[str, tuple[str, ...]] = {
    "runtime": ("DEFAULT_SEED", "cpu_name", "pick_device", "seed_everything", "training_threads"),
    "locate": ("DEBIAN_DIR", "find_data_dir", "torchvision_root"),
    "idx": ("read_idx",),
    "data": (
        "CLASS_NAMES",
        "DEFAULT_VAL_SIZE",
        "SPLIT_SIZES",
        "DataSplits",
        "load_fashion_mnist",
        "load_split",
        "make_loader",
        "pixel_stats",
        "train_val_indices",
    ),
    "model": ("ACTIVATIONS", "build_lenet", "count_parameters", "lenet5"),
    "loop": ("History", "evaluate", "fit", "predict", "train_one_epoch"),
    "config": ("TrainConfig",),
    "training": ("TrainResult", "learning_rates", "make_scheduler", "train"),
    "cache": ("train_or_load",),
    "checkpoint": ("load_checkpoint", "save_checkpoint"),
    "chapter_models": ("ABLATION_STEPS", "ablation_configs", "book_models"),
    "hooks": ("capture_outputs",),
    "analysis": ("most_confused_pairs", "normalized_confusion"),
    "augment": ("FlipShift",),
    "plots": (
        "LINE_STYLES",
        "MARKERS",
        "PALETTE",
        "SEQUENTIAL_CMAP",
        "plot_confusion_matrix",
        "plot_histories",
        "show_images",
    ),
    "errors": (
        "CacheError",
        "CheckpointMismatchError",
        "CheckpointNotSavedWarning",
        "CorruptDataError",
        "DataUnavailableError",
        "LenetError",
        "NonFiniteLossError",
    ),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = ["__version__", *sorted(_MODULE_OF)]


def __getattr__(name: str) -> object:
    """Import a public name from its module the first time it is asked for."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The public names too, so tab completion offers them before they are loaded."""
    return sorted({*globals(), *_MODULE_OF})
