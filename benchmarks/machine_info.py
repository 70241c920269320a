"""What machine a benchmark ran on, for the tables the benchmarks write."""

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, or the platform's machine type elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_summary() -> str:
    """CPU model and logical CPU count, e.g. 'AMD EPYC ..., 2 logical CPUs'."""
    return f"{cpu_name()}, {os.cpu_count()} logical CPUs"
