"""Command line: `python -m lenet_utils train --activation relu`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import torch

from .data import load_fashion_mnist, make_loader
from .errors import LenetError
from .experiment import TrainConfig, train
from .loop import evaluate
from .model import ACTIVATIONS
from .runtime import DEFAULT_SEED, pick_device


def _positive(kind: type) -> Callable[[str], int | float]:
    """Argparse type that accepts only positive numbers of `kind`."""

    def parse(text: str) -> int | float:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _seed(text: str) -> int:
    """Argparse type for a seed that Python, NumPy and PyTorch all accept (0 to 2**32 - 1)."""
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, got {text}")
    return value


def _device(text: str) -> torch.device:
    """Argparse type for a device name that exists and is available on this machine."""
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device name; use cuda, mps or cpu") from None
    backend = {"cuda": torch.cuda, "mps": getattr(torch.backends, "mps", None)}.get(device.type)
    if device.type != "cpu" and (backend is None or not backend.is_available()):
        raise argparse.ArgumentTypeError(f"{text!r} is not available on this machine")
    return device


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `train` command."""
    parser = argparse.ArgumentParser(prog="python -m lenet_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("train", help="train LeNet-5 with the original post's protocol and report test accuracy")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="tanh")
    p.add_argument("--epochs", type=_positive(int), default=5)
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED)
    p.add_argument("--batch-size", type=_positive(int), default=100)
    p.add_argument("--lr", type=_positive(float), default=1e-3)
    p.add_argument("--data-dir", default=None, help="folder holding the four Fashion-MNIST IDX files")
    p.add_argument("--device", type=_device, default=None, help="cuda, mps or cpu (default: the first available)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        config = TrainConfig(args.activation, args.epochs, args.batch_size, args.lr, args.seed)
        data = load_fashion_mnist(args.data_dir, seed=args.seed)
        device = args.device or pick_device()
        result = train(config, data, device)
        _, accuracy = evaluate(result.model, make_loader(data.test, batch_size=1000), device)
    except LenetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"test accuracy: {accuracy:.2%}")
    return 0
