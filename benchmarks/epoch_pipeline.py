"""Time one training epoch of the ReLU LeNet-5: the original post's input pipeline against lenet_utils'.

Both sides train the same network (lenet5("relu"), Adam, lr 1e-3, batch 100, seed 59) on the same
60,000 training images, the whole training set the original post used for one epoch:

* original: torchvision.datasets.FashionMNIST decoding one PIL image at a time through
  ToTensor() + Normalize(0.3814, 0.3994), a DataLoader(batch_size=100, shuffle=True, num_workers=1),
  and the post's loop, which reads the loss and the number correct with .item() after every batch;
* lenet_utils: the images normalized once into one in-memory tensor, served by make_loader in
  whole-batch slices, trained by train_one_epoch with the model laid out channels-last, exactly
  as lenet_utils' fit (and so train_or_load) runs it.

The two are interleaved (original, ours; then ours, original; ...) so a machine that gets busier or
quieter during the run affects both alike. The script prints both times per round, the medians,
and ends with the line "speedup: X.XXx" (median original / median lenet_utils).

torchvision is pointed at a temporary root holding decompressed copies of the IDX files that
lenet_utils.find_data_dir() finds, so nothing is downloaded (Debian ships re-compressed .gz files
whose checksums torchvision rejects; the decompressed files are the originals).

Other modes: --profile shows where lenet_utils' training step spends its time (torch.profiler);
--explore times variants of the step (thread count, channels_last, oneDNN off, fused Adam, no
per-batch .item()) on a subset, interleaved, to see what is worth changing.

Timings depend on the machine and on what else runs on it: the script prints the load average
before it starts and warns when the machine is busy.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from booktools.reference import machine
from lenet_utils import find_data_dir, lenet5, load_split, make_loader, seed_everything, train_one_epoch
from lenet_utils.data import normalize
from lenet_utils.loop import channels_last

POST_MEAN, POST_STD = 0.3814, 0.3994  # the normalization constants the original post used
BATCH_SIZE, LR, SEED = 100, 1e-3, 59
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CPU = torch.device("cpu")


def load_note() -> str:
    """The 1-minute load average, with a warning when other work competes for the CPUs."""
    load = os.getloadavg()[0]
    busy = load > 0.5 * (os.cpu_count() or 1)
    return f"load average {load:.2f}" + (
        " (BUSY: other processes compete for the CPUs, timings are inflated)" if busy else ""
    )


# --------------------------------------------------------------------------- the two pipelines


def torchvision_root(directory: Path) -> Path:
    """Fill `directory`/FashionMNIST/raw with the decompressed IDX files torchvision reads offline."""
    raw = directory / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    source = find_data_dir(download=False)
    for name in IDX_FILES:
        plain, packed = source / name, source / f"{name}.gz"
        if plain.is_file():
            shutil.copyfile(plain, raw / name)
        else:
            with gzip.open(packed, "rb") as compressed, open(raw / name, "wb") as out:
                shutil.copyfileobj(compressed, out)
    return directory


def original_loader(root: Path) -> DataLoader:
    """The post's pipeline: per-image PIL decoding, ToTensor, Normalize, one worker process."""
    from torchvision.datasets import FashionMNIST
    from torchvision.transforms import Compose, Normalize, ToTensor

    transform = Compose([ToTensor(), Normalize(mean=POST_MEAN, std=POST_STD)])
    train = FashionMNIST(root=str(root), train=True, transform=transform, download=False)
    return DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, num_workers=1)


def original_epoch(model: torch.nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer) -> tuple[float, int]:
    """The post's training loop: it reads loss and correct count back with .item() after every batch."""
    model.train()
    total_loss, total_correct = 0.0, 0
    for images, labels in loader:
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
        total_correct += logits.argmax(1).eq(labels).sum().item()
    return total_loss, total_correct


def our_dataset() -> TensorDataset:
    """The same 60,000 training images, normalized once with the post's constants, as one tensor."""
    images, labels = load_split("train")
    return TensorDataset(normalize(images, POST_MEAN, POST_STD), labels)


def fresh_model() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    seed_everything(SEED)
    model = lenet5("relu")
    return model, torch.optim.Adam(model.parameters(), lr=LR)


def time_original(root: Path) -> float:
    model, optimizer = fresh_model()
    start = time.perf_counter()
    original_epoch(model, original_loader(root), optimizer)  # worker start-up is part of every epoch
    return time.perf_counter() - start


def time_ours(dataset: TensorDataset) -> float:
    model, optimizer = fresh_model()
    start = time.perf_counter()
    with channels_last(model, CPU):  # as fit() does
        train_one_epoch(
            model, make_loader(dataset, BATCH_SIZE, shuffle=True, seed=SEED), optimizer=optimizer, device=CPU
        )
    return time.perf_counter() - start


def warm_up(dataset: TensorDataset) -> None:
    """Run a few batches first so one-time costs (oneDNN kernel selection, page faults) are not timed."""
    model, optimizer = fresh_model()
    small = TensorDataset(*(tensor[:2_000] for tensor in dataset.tensors))
    for layout in (nullcontext(), channels_last(model, CPU)):
        with layout:
            train_one_epoch(model, make_loader(small, BATCH_SIZE, shuffle=True), optimizer=optimizer, device=CPU)


def compare(rounds: int) -> None:
    dataset = our_dataset()
    warm_up(dataset)
    times: dict[str, list[float]] = {"original": [], "lenet_utils": []}
    with tempfile.TemporaryDirectory(prefix="fashion-mnist-torchvision-") as tmp:
        root = torchvision_root(Path(tmp))
        runners: dict[str, Callable[[], float]] = {
            "original": lambda: time_original(root),
            "lenet_utils": lambda: time_ours(dataset),
        }
        for index in range(rounds):
            order = list(runners) if index % 2 == 0 else list(reversed(runners))
            for name in order:
                times[name].append(runners[name]())
            print(
                f"round {index + 1}/{rounds}: original {times['original'][-1]:6.2f} s | "
                f"lenet_utils {times['lenet_utils'][-1]:6.2f} s | {load_note()}",
                flush=True,
            )
    original, ours = (statistics.median(times[name]) for name in ("original", "lenet_utils"))
    n = len(dataset)
    print(f"median original:    {original:6.2f} s per epoch of {n:,} images ({n / original:,.0f} images/s)")
    print(f"median lenet_utils: {ours:6.2f} s per epoch of {n:,} images ({n / ours:,.0f} images/s)")
    print(f"speedup: {original / ours:.2f}x")


# --------------------------------------------------------------------------- looking closer


def profile(batches: int) -> None:
    """Print where lenet_utils' training step spends its CPU time over `batches` batches."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    dataset = our_dataset()
    subset = TensorDataset(*(tensor[: batches * BATCH_SIZE] for tensor in dataset.tensors))
    warm_up(dataset)
    model, optimizer = fresh_model()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof, channels_last(model, CPU):
        train_one_epoch(model, make_loader(subset, BATCH_SIZE, shuffle=True), optimizer=optimizer, device=CPU)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def explore(rounds: int, images: int) -> None:
    """Time variants of the training step on `images` images, interleaved, and print the medians."""
    dataset = our_dataset()
    subset = TensorDataset(*(tensor[:images] for tensor in dataset.tensors))
    warm_up(dataset)
    default_threads = torch.get_num_threads()

    def step_loop(threads=None, mkldnn=True, nhwc=False, item_each_batch=True, fused=False) -> float:
        """The training step written out, so each option can be switched on its own."""
        torch.set_num_threads(threads or default_threads)
        seed_everything(SEED)
        model = lenet5("relu")
        if nhwc:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
        start = time.perf_counter()
        with torch.backends.mkldnn.flags(enabled=mkldnn):
            for images_, labels in make_loader(subset, BATCH_SIZE, shuffle=True, seed=SEED):
                if nhwc:
                    images_ = images_.contiguous(memory_format=torch.channels_last)
                logits = model(images_)
                loss = F.cross_entropy(logits, labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    batch_loss, batch_correct = loss * len(labels), (logits.argmax(1) == labels).sum()
                if item_each_batch:
                    batch_loss.item(), batch_correct.item()
                else:
                    loss_sum += batch_loss
                    correct += batch_correct
        seconds = time.perf_counter() - start
        torch.set_num_threads(default_threads)
        return seconds

    variants = {
        "train_one_epoch, channels_last (as fit)": "fit",
        "train_one_epoch, default layout": "plain",
        f"{default_threads} threads (default), plain loop": {},
        "1 thread": {"threads": 1},
        "channels_last model and images": {"nhwc": True},
        "oneDNN off": {"mkldnn": False},
        "fused Adam": {"fused": True},
        "no .item() per batch": {"item_each_batch": False},
    }
    results: dict[str, list[float]] = {name: [] for name in variants}
    for index in range(rounds):
        for name, options in variants.items():
            if isinstance(options, str):
                model, optimizer = fresh_model()
                start = time.perf_counter()
                with channels_last(model, CPU) if options == "fit" else nullcontext():
                    train_one_epoch(
                        model, make_loader(subset, BATCH_SIZE, shuffle=True, seed=SEED), optimizer=optimizer, device=CPU
                    )
                results[name].append(time.perf_counter() - start)
            else:
                results[name].append(step_loop(**options))
        print(f"round {index + 1}/{rounds} done ({load_note()})", flush=True)
    base = statistics.median(results["train_one_epoch, default layout"])
    print(f"{'variant':40s} {'median s':>9s} {'speed-up':>9s}   ({images:,} images; speed-up vs default layout)")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:40s} {median:9.2f} {base / median:8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for the whole run")
    parser.add_argument("--profile", type=int, metavar="BATCHES", help="profile lenet_utils' step over BATCHES batches")
    parser.add_argument("--explore", type=int, metavar="IMAGES", help="time variants of the step on IMAGES images")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"before: {load_note()}", flush=True)
    if args.profile:
        profile(args.profile)
    elif args.explore:
        explore(args.rounds, args.explore)
    else:
        compare(args.rounds)


if __name__ == "__main__":
    main()
