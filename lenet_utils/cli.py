"""Command line: `python -m lenet_utils train --activation relu`, and `prepare` (a room's models, or a bundle's)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from .config import TrainConfig
from .data import DEFAULT_VAL_SIZE, SPLIT_SIZES, load_fashion_mnist, make_loader
from .errors import LenetError
from .loop import evaluate
from .model import ACTIVATIONS
from .room import install_bundle, prepare
from .runtime import DEFAULT_SEED, pick_device
from .sigterm import sigterm_as_interrupt
from .training import train


def _number(kind: type, name: str, low: float, high: float, bounds: str, too_large: str = "") -> Callable[[str], float]:
    """Argparse type for a number of `kind` from `low` to `high`: it `must be {bounds}` (above `high`: `too_large`)."""

    too_large = too_large or bounds

    def parse(text: str) -> float:
        value = kind(text)
        if not low <= value <= high:  # NaN too
            raise argparse.ArgumentTypeError(f"must be {too_large if value > high else bounds}, got {text}")
        return value

    parse.__name__ = name  # argparse names the type in "invalid integer seed value: '1e3'"
    return parse


POSITIVE = "a positive finite number"
_positive_int = _number(int, "positive int", 1, math.inf, POSITIVE)
_positive_float = _number(float, "positive float", math.ulp(0.0), sys.float_info.max, POSITIVE)
_seed = _number(int, "integer seed", 0, 2**32 - 1, "between 0 and 2**32 - 1")
# Checked before the data loads: no batch can be larger than the training split.
TRAINING_IMAGES = SPLIT_SIZES["train"] - DEFAULT_VAL_SIZE
_batch_size = _number(
    int, "batch size", 1, TRAINING_IMAGES, POSITIVE, f"at most {TRAINING_IMAGES}, the number of training images"
)


def _device(text: str) -> torch.device:
    """Argparse type for a device name that exists and is available on this machine."""
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device name; use cuda, mps or cpu") from None
    if device.type in ("cpu", "mps") and device.index not in (None, 0):  # torch accepts cpu:99 and uses the CPU
        raise argparse.ArgumentTypeError(f"{text!r} does not exist: use {device.type} (there is one)")
    backend = {"cuda": torch.cuda, "mps": getattr(torch.backends, "mps", None)}.get(device.type)
    if device.type != "cpu" and (backend is None or not backend.is_available()):
        raise argparse.ArgumentTypeError(f"{text!r} is not available on this machine")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise argparse.ArgumentTypeError(
            f"{text!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)"
        )
    return device


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `train` and `prepare` commands."""
    parser = argparse.ArgumentParser(prog="python -m lenet_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("train", help="train LeNet-5 with the original post's protocol and report test accuracy")
    p.add_argument(
        "--activation", choices=sorted(ACTIVATIONS), default="tanh", help="nonlinearity (default: %(default)s)"
    )
    p.add_argument(
        "--epochs", type=_positive_int, default=5, help="passes over the training split (default: %(default)s)"
    )
    p.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help="seeds weights, split, order (default: %(default)s)"
    )
    p.add_argument("--batch-size", type=_batch_size, default=100, help="images per Adam step (default: %(default)s)")
    p.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam's learning rate (default: %(default)s)")
    _add_data_and_device(p)
    p.set_defaults(run=_train)
    p = commands.add_parser("prepare", help="train or fetch every model the chapters use into the cache")
    _add_data_and_device(p)
    p.add_argument("--no-fetch", action="store_true", help="train every missing model here, download nothing")
    p.add_argument("--from-bundle", type=Path, default=None, metavar="FILE", help="install a bundle first")
    p.set_defaults(run=_prepare)
    return parser


def _add_data_and_device(p: argparse.ArgumentParser) -> None:
    """The options every command has: where the data is and what to train on."""
    p.add_argument("--data-dir", default=None, help="folder holding the four Fashion-MNIST IDX files")
    p.add_argument("--device", type=_device, default=None, help="cuda, mps or cpu (default: the first available)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (130 after Ctrl-C, as shells expect)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with sigterm_as_interrupt():  # a stop by the system (timeout, CI cancel) cleans up and reports like Ctrl-C
        try:
            return args.run(parser, args)
        except LenetError as exc:
            return _fail(str(exc), 1)
        except KeyboardInterrupt:
            if args.command == "prepare":
                return _fail(
                    "interrupted; the models finished so far are in the cache, run it again for the rest.", 130
                )
            return _fail("interrupted before the test accuracy was measured; run it again for one.", 130)
        except (MemoryError, torch.cuda.OutOfMemoryError):
            if args.command == "prepare":
                return _fail("ran out of memory; close other programs, or pass --device cpu, and run it again.", 1)
            return _fail(f"ran out of memory with batches of {args.batch_size}; pass a smaller --batch-size.", 1)
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other command-line tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit cannot fail again
            return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


def _fail(message: str, status: int) -> int:
    """Print `message` as the one-line error of the command line; return `status`."""
    print(f"error: {message}", file=sys.stderr)
    return status


def _train(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Train as `args` say and print the test accuracy; return the exit status."""
    config = TrainConfig(
        activation=args.activation, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed
    )
    data = load_fashion_mnist(args.data_dir, seed=args.seed)
    if args.batch_size > len(data.train):
        parser.error(f"argument --batch-size: must be at most {len(data.train)}, the number of training images")
    device = args.device or pick_device()
    result = train(config, data, device)
    if result.history.interrupted:
        return _fail(
            f"interrupted after {result.history.epochs} of {config.epochs} epochs, so there is no test accuracy; "
            "run it again for one.",
            130,
        )
    _, accuracy = evaluate(result.model, make_loader(data.test, batch_size=1000), device)
    print(f"test accuracy: {accuracy:.2%}")
    return 0


def _prepare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Install a bundle if given, then obtain every model of the book; return the exit status."""
    if args.from_bundle is not None:
        for line in install_bundle(args.from_bundle):
            print(line)
    if not prepare(args.data_dir, args.device, fetch=not args.no_fetch and args.from_bundle is None):
        raise KeyboardInterrupt  # training stopped early (Ctrl-C or SIGTERM), as the handler reports
    return 0
