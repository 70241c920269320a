"""Seeding, device choice, threads for training, and the name of the processor the numbers came from."""

from __future__ import annotations

import math
import os
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch

DEFAULT_SEED = 59  # the seed the original post used


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so runs repeat on one machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(prefer: str | None = None) -> torch.device:
    """Return `prefer` if given, else the first available of cuda, mps and cpu."""
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), or the platform's processor or machine type elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Threads for training (benchmarks/threads_under_load.md). PyTorch starts one thread per core, and its threads
# wait for each other at every operation: when another program keeps one CPU busy, the thread that shares it
# stalls all the others. On 2 cores, beside one busy process, half an epoch took 6.7 s with 2 threads and 2.8 s
# with 1 (quiet: 2.0 s with 2). So training uses the CPUs nobody else is using, measured when it starts.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")  # PyTorch honours both
SAMPLE_SECONDS = 0.2  # long enough for 20 clock ticks per CPU, short beside an epoch
_chosen_threads: int | None = None  # what training_threads() last set, to tell it from the user's choice
_threads_at_import = torch.get_num_threads()


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity where the system reports one, else all of them)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def parse_proc_stat(text: str) -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of each CPU since boot, from the text of /proc/stat."""
    ticks = {}
    for line in text.splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            # user nice system idle iowait irq softirq steal (guest time is already counted in user and nice)
            values = [int(v) for v in fields[:8]]
            idle = values[3] + values[4]
            ticks[int(name[3:])] = (sum(values) - idle, sum(values))
    return ticks


def read_cpu_ticks() -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of each CPU since boot; an OSError where there is no /proc/stat."""
    return parse_proc_stat(Path("/proc/stat").read_text())


def busy_elsewhere(
    before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]], cpus: list[int], own_ticks: float
) -> float | None:
    """How many of `cpus` other processes kept busy between two /proc/stat readings (None: no time passed).

    `own_ticks` is this process's CPU time in between, which is not someone else's load.
    """
    busy = sum(after[c][0] - before[c][0] for c in cpus if c in before and c in after)
    elapsed = [after[c][1] - before[c][1] for c in cpus if c in before and c in after]
    if not elapsed or sum(elapsed) <= 0:
        return None
    return max(0.0, busy - own_ticks) / (sum(elapsed) / len(elapsed))


def threads_for(cpus: int, busy: float, at_most: int) -> int:
    """Threads to train with on `cpus` CPUs of which others keep `busy` busy: the idle ones, 1 to `at_most`.

    A CPU counts as taken once others use half of it, since a thread that waits its turn there holds up all.
    `at_most` is PyTorch's own count (one per physical core), better than one per logical CPU on a quiet
    machine whose cores run two hardware threads each.
    """
    return max(1, min(at_most, cpus - math.floor(busy + 0.5)))


def training_threads(sample_seconds: float = SAMPLE_SECONDS) -> int:
    """The thread count to train with; unless the user chose one, set it from the CPUs free right now.

    Free: usable by this process and not kept busy by others over `sample_seconds`. Where /proc/stat is
    missing (macOS, Windows), PyTorch's default stays. The user chose by setting OMP_NUM_THREADS, or by a call
    to `torch.set_num_threads` that changed the count after lenet_utils first needed this module (so after the
    imports).
    """
    global _chosen_threads
    chosen = torch.get_num_threads() not in (_threads_at_import, _chosen_threads)
    if chosen or any(os.environ.get(name) for name in THREAD_ENV_VARS):
        return torch.get_num_threads()
    cpus = usable_cpus()
    try:
        before, own_before = read_cpu_ticks(), time.process_time()
        time.sleep(sample_seconds)
        after, own_after = read_cpu_ticks(), time.process_time()
    except OSError:
        return torch.get_num_threads()
    busy = busy_elsewhere(before, after, cpus, (own_after - own_before) * os.sysconf("SC_CLK_TCK"))
    threads = _threads_at_import if busy is None else threads_for(len(cpus), busy, _threads_at_import)
    torch.set_num_threads(threads)
    _chosen_threads = threads
    return threads
