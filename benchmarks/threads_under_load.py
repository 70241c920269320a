"""Time one ReLU LeNet-5 epoch with 1 and all threads, on a quiet machine and beside a CPU-bound process.

The question (issue 16): how many threads should training use when another program keeps a CPU busy?
PyTorch starts one thread per CPU, and at every operation its threads wait for each other, so a thread
that shares its CPU with another program holds up the rest.

Each measurement runs in a fresh Python process, because OpenMP reads OMP_NUM_THREADS and
OMP_WAIT_POLICY once, when PyTorch starts. The process trains the ReLU LeNet-5 (Adam, lr 1e-3, batch
100, seed 59) for one epoch over the 55,000 training images of lenet_utils' pipeline (load_fashion_mnist,
make_loader, train_one_epoch inside channels_last, as fit runs it), after a few untimed warm-up batches.
The settings:

* `1 thread`, `N threads` (N: the CPUs this process may use): OMP_NUM_THREADS set, as a user would;
* `N threads, PASSIVE`: also OMP_WAIT_POLICY=PASSIVE, so waiting threads sleep instead of spinning;
* `lenet_utils default`: nothing set; lenet_utils.training_threads() decides, as train() does.

Each setting runs quiet and beside one competing process (a Python busy loop this script starts and
always kills, even on Ctrl-C or SIGTERM). Rounds interleave every setting and both loads, in an order
that rotates from round to round, so a machine that gets busier or quieter affects all alike. The
script prints every measurement, then the median seconds per setting and load with the ratio to the
quiet N-thread epoch, and the thread count each default run chose.

    .venv/bin/python benchmarks/threads_under_load.py            # 3 rounds of full epochs (minutes)
    .venv/bin/python benchmarks/threads_under_load.py --quick    # 1 round of 20 batches: a smoke test

Run it on an otherwise quiet machine: the competing process must be the only other load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")
BATCH_SIZE, LR, SEED = 100, 1e-3, 59
WARM_UP_BATCHES = 5
HOG_RAMP_SECONDS = 0.5  # let the competing process reach full speed before the epoch starts
HOG = "while True: pass"


@dataclass(frozen=True)
class Setting:
    """One way of running the epoch: a thread count (None: lenet_utils decides) and OpenMP's wait policy."""

    name: str
    threads: int | None
    passive: bool = False

    def environment(self) -> dict[str, str]:
        """The child's environment: ours without thread settings, plus this setting's."""
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
        if self.threads is not None:
            env["OMP_NUM_THREADS"] = str(self.threads)
        if self.passive:
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        return env


def settings(cpus: int) -> list[Setting]:
    """1 thread, all usable CPUs (also with PASSIVE waiting), and lenet_utils' default."""
    chosen = [Setting("1 thread", 1)]
    if cpus > 1:
        chosen += [Setting(f"{cpus} threads", cpus), Setting(f"{cpus} threads, PASSIVE", cpus, passive=True)]
    return [*chosen, Setting("lenet_utils default", None)]


def usable_cpu_count() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --------------------------------------------------------------------------- the child: one timed epoch


def child(batches: int | None) -> None:
    """Train one epoch (or `batches` batches) and print {"seconds", "threads"} as JSON."""
    import torch
    from torch.utils.data import TensorDataset

    from lenet_utils import lenet5, load_fashion_mnist, make_loader, seed_everything, train_one_epoch
    from lenet_utils.loop import channels_last
    from lenet_utils.runtime import training_threads

    cpu = torch.device("cpu")
    threads = training_threads()  # leaves an explicit OMP_NUM_THREADS alone
    train = load_fashion_mnist(seed=SEED).train
    if batches is not None:
        images, labels = train.tensors
        train = TensorDataset(images[: batches * BATCH_SIZE], labels[: batches * BATCH_SIZE])
    seed_everything(SEED)
    model = lenet5("relu")
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    with channels_last(model, cpu):  # as fit() trains
        warm_up = TensorDataset(*(t[: WARM_UP_BATCHES * BATCH_SIZE] for t in train.tensors))
        train_one_epoch(model, make_loader(warm_up, BATCH_SIZE), optimizer=optimizer, device=cpu)
        start = time.perf_counter()
        train_one_epoch(model, make_loader(train, BATCH_SIZE, shuffle=True, seed=SEED), optimizer=optimizer, device=cpu)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "threads": threads}))


# --------------------------------------------------------------------------- the parent: rounds and report


def measure(setting: Setting, batches: int | None) -> dict:
    """Run one epoch in a fresh process with `setting`; return what the child printed."""
    command = [sys.executable, __file__, "--child"] + ([] if batches is None else ["--batches", str(batches)])
    done = subprocess.run(command, env=setting.environment(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"error: the epoch with {setting.name} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Hog:
    """One CPU-bound competing process, started on entry and always killed on exit."""

    def __enter__(self) -> Hog:
        self.process = subprocess.Popen([sys.executable, "-c", HOG])
        time.sleep(HOG_RAMP_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def rotated(items: list, by: int) -> list:
    """`items` started at position `by` (mod its length), so every item leads some round."""
    by %= len(items)
    return items[by:] + items[:by]


def run(rounds: int, batches: int | None) -> dict[tuple[str, str], list[dict]]:
    """Measure every setting quiet and busy, `rounds` times, interleaved; return the results by (setting, load)."""
    results: dict[tuple[str, str], list[dict]] = {}
    chosen = settings(usable_cpu_count())
    for r in range(rounds):
        for load in rotated(["quiet", "busy"], r):
            order = rotated(chosen, r)
            if load == "busy":
                with Hog():
                    measured = [(s, measure(s, batches)) for s in order]
            else:
                measured = [(s, measure(s, batches)) for s in order]
            for setting, result in measured:
                results.setdefault((setting.name, load), []).append(result)
                seconds, threads = result["seconds"], result["threads"]
                print(f"round {r + 1} {load:5} {setting.name:22} {seconds:7.2f} s  ({threads} threads)", flush=True)
    return results


def report(results: dict[tuple[str, str], list[dict]], cpus: int) -> None:
    """Print median seconds per setting and load, and each as a ratio to the quiet all-thread epoch."""
    median = {key: statistics.median(r["seconds"] for r in runs) for key, runs in results.items()}
    baseline = median[(settings(cpus)[1 if cpus > 1 else 0].name, "quiet")]
    print(f"\nmedians (ratio to the quiet {cpus}-thread epoch):")
    print(f"{'setting':22} {'quiet':>16} {'one busy process':>20}  threads chosen by the default")
    for setting in settings(cpus):
        quiet, busy = median[(setting.name, "quiet")], median[(setting.name, "busy")]
        chosen = ""
        if setting.threads is None:
            chosen = ", ".join(
                f"{load}: {sorted({r['threads'] for r in results[(setting.name, load)]})}" for load in ("quiet", "busy")
            )
        print(
            f"{setting.name:22} {quiet:8.2f} s {quiet / baseline:5.2f}x "
            f"{busy:11.2f} s {busy / baseline:5.2f}x  {chosen}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 round of 20 batches per epoch: a smoke test")
    parser.add_argument("--batches", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.batches)
        return
    # SIGTERM (timeout, a CI cancel) unwinds like Ctrl-C, so the competing process is always killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rounds, batches = (1, 20) if args.quick else (args.rounds, args.batches)
    cpus = usable_cpu_count()
    print(f"{cpus} usable CPUs, load average {os.getloadavg()[0]:.2f} before starting", flush=True)
    report(run(rounds, batches), cpus)


if __name__ == "__main__":
    main()
