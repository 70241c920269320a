"""What machine a benchmark ran on, for the tables the benchmarks write."""

import os

from lenet_utils.runtime import cpu_name


def cpu_summary() -> str:
    """CPU model and logical CPU count, e.g. 'AMD EPYC ..., 2 logical CPUs'."""
    return f"{cpu_name()}, {os.cpu_count()} logical CPUs"
