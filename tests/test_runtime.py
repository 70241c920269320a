"""Seeding, device choice, threads for training and the processor's name (lenet_utils.runtime)."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

import lenet_utils.runtime as runtime
from lenet_utils import cpu_name, pick_device, seed_everything, training_threads

# --------------------------------------------------------------------------- seed_everything


def draws() -> tuple:
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seed_everything_repeats_python_numpy_and_torch():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    seed_everything(4)
    assert draws() != first


# --------------------------------------------------------------------------- pick_device


def test_pick_device_honours_an_explicit_choice():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("cuda:1") == torch.device("cuda", 1)


def test_pick_device_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")


def test_pick_device_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")


def test_pick_device_uses_mps_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")


# --------------------------------------------------------------------------- cpu_name


def test_cpu_name_reads_the_model_name(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n")
    monkeypatch.setattr(runtime, "Path", lambda _: cpuinfo)
    assert cpu_name() == "AMD EPYC 7B13"


def test_cpu_name_falls_back_to_the_platform_without_proc(monkeypatch, tmp_path):
    monkeypatch.setattr(runtime, "Path", lambda _: tmp_path / "missing")
    monkeypatch.setattr(runtime.platform, "processor", lambda: "")
    monkeypatch.setattr(runtime.platform, "machine", lambda: "arm64")
    assert cpu_name() == "arm64"


# --------------------------------------------------------------------------- threads for training

# /proc/stat as Linux writes it: the aggregate line, then one line per CPU with user nice system idle iowait
# irq softirq steal guest guest_nice, in clock ticks since boot.
PROC_STAT = """\
cpu  {a} 0 0 {b} 0 0 0 0 0 0
cpu0 {busy0} 5 10 {idle0} 3 0 2 0 7 0
cpu1 {busy1} 5 10 {idle1} 3 0 2 0 7 0
intr 12345 0 0
ctxt 67890
"""


def proc_stat(busy0: int, idle0: int, busy1: int, idle1: int) -> dict[int, tuple[int, int]]:
    text = PROC_STAT.format(a=busy0 + busy1, b=idle0 + idle1, busy0=busy0, idle0=idle0, busy1=busy1, idle1=idle1)
    return runtime.parse_proc_stat(text)


def test_proc_stat_gives_busy_and_total_ticks_per_cpu():
    ticks = proc_stat(100, 1000, 200, 900)
    # busy: user + nice + system + irq + softirq + steal; idle and iowait are not busy; guest is inside user
    assert ticks == {0: (100 + 5 + 10 + 2, 100 + 5 + 10 + 1000 + 3 + 2), 1: (200 + 17, 200 + 17 + 903)}


@pytest.mark.parametrize(
    ("after", "own", "busy"),
    [
        ((100, 1020, 200, 920), 0, 0.0),  # both CPUs idle for 20 ticks
        ((120, 1000, 200, 920), 0, 1.0),  # CPU 0 fully busy with another process
        ((120, 1000, 200, 920), 20, 0.0),  # ... with this process: not someone else's load
        ((110, 1010, 210, 910), 0, 1.0),  # two CPUs half busy: one CPU's worth
        ((120, 1000, 220, 900), 10, 1.5),
    ],
)
def test_busy_elsewhere_counts_other_processes_cpus(after, own, busy):
    before = proc_stat(100, 1000, 200, 900)
    assert runtime.busy_elsewhere(before, proc_stat(*after), [0, 1], own) == pytest.approx(busy)


def test_busy_elsewhere_looks_only_at_the_cpus_this_process_may_use():
    before, after = proc_stat(100, 1000, 200, 900), proc_stat(120, 1000, 200, 920)
    assert runtime.busy_elsewhere(before, after, [1], own_ticks=0) == 0.0
    assert runtime.busy_elsewhere(before, after, [0], own_ticks=0) == 1.0


def test_busy_elsewhere_cannot_tell_when_no_time_passed():
    same = proc_stat(100, 1000, 200, 900)
    assert runtime.busy_elsewhere(same, same, [0, 1], own_ticks=0) is None


@pytest.mark.parametrize(
    ("cpus", "busy", "threads"),
    [(2, 0.0, 2), (2, 0.4, 2), (2, 0.5, 1), (2, 1.0, 1), (2, 3.0, 1), (1, 0.0, 1), (8, 2.6, 5)],
)
def test_threads_are_the_cpus_others_leave_free_and_at_least_one(cpus, busy, threads):
    assert runtime.threads_for(cpus, busy, at_most=cpus) == threads


def test_threads_never_exceed_pytorchs_own_count():
    # 8 logical CPUs on 4 cores with two hardware threads each: PyTorch starts 4 threads, and so do we.
    assert runtime.threads_for(8, 0.0, at_most=4) == 4
    assert runtime.threads_for(8, 5.0, at_most=4) == 3


@pytest.fixture
def threads(monkeypatch):
    """A 2-CPU machine where PyTorch started 2 threads and no thread variable is set; torch's count restored after."""
    before = torch.get_num_threads()
    for name in runtime.THREAD_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(2)
    monkeypatch.setattr(runtime, "_threads_at_import", 2)
    monkeypatch.setattr(runtime, "_chosen_threads", None)
    monkeypatch.setattr(runtime, "usable_cpus", lambda: [0, 1])
    yield
    torch.set_num_threads(before)


def readings(monkeypatch, *ticks: dict) -> None:
    """Make training_threads() read `ticks` from /proc/stat, one after the other."""
    queue = list(ticks)
    monkeypatch.setattr(runtime, "read_cpu_ticks", lambda: queue.pop(0))


def test_a_quiet_machine_trains_with_every_cpu(threads, monkeypatch):
    readings(monkeypatch, proc_stat(100, 1000, 200, 900), proc_stat(100, 1020, 200, 920))
    assert training_threads(sample_seconds=0) == 2
    assert torch.get_num_threads() == 2


def test_one_busy_cpu_leaves_one_thread(threads, monkeypatch):
    readings(monkeypatch, proc_stat(100, 1000, 200, 900), proc_stat(120, 1000, 200, 920))
    assert training_threads(sample_seconds=0) == 1
    assert torch.get_num_threads() == 1


def test_a_quiet_machine_keeps_pytorchs_count_when_it_is_lower(threads, monkeypatch):
    monkeypatch.setattr(runtime, "_threads_at_import", 1)
    torch.set_num_threads(1)
    readings(monkeypatch, proc_stat(100, 1000, 200, 900), proc_stat(100, 1020, 200, 920))
    assert training_threads(sample_seconds=0) == 1


def test_the_choice_is_made_again_when_the_machine_quietens(threads, monkeypatch):
    busy, quiet = proc_stat(120, 1000, 200, 920), proc_stat(120, 1020, 200, 940)
    readings(monkeypatch, proc_stat(100, 1000, 200, 900), busy, busy, quiet)
    assert training_threads(sample_seconds=0) == 1
    assert training_threads(sample_seconds=0) == 2  # its own earlier choice is not the user's


@pytest.mark.parametrize("variable", runtime.THREAD_ENV_VARS)
def test_a_thread_count_set_in_the_environment_is_left_alone(threads, monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    monkeypatch.setattr(runtime, "read_cpu_ticks", lambda: pytest.fail("measured although the user chose"))
    assert training_threads(sample_seconds=0) == torch.get_num_threads()


def test_a_thread_count_set_with_torch_is_left_alone(threads, monkeypatch):
    torch.set_num_threads(3)
    monkeypatch.setattr(runtime, "read_cpu_ticks", lambda: pytest.fail("measured although the user chose"))
    assert training_threads(sample_seconds=0) == 3
    assert torch.get_num_threads() == 3


def test_without_proc_stat_torch_keeps_its_count(threads, monkeypatch):
    def missing():
        raise FileNotFoundError("/proc/stat")

    monkeypatch.setattr(runtime, "read_cpu_ticks", missing)
    before = torch.get_num_threads()
    assert training_threads(sample_seconds=0) == before
    assert torch.get_num_threads() == before


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="the system reports no CPU affinity")
def test_usable_cpus_are_this_process_affinity():
    assert runtime.usable_cpus() == sorted(os.sched_getaffinity(0))
