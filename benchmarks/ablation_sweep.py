"""Train chapter 5's long runs (its final model and the sweep A-D); write their validation accuracies in Markdown.

Chapter 5 quotes this table rather than running it: the five runs take several times the chapter's
whole run-time budget. The runs are the chapter's `tried` configurations, trained with `train_or_load`
(the book's code, seed and batch order), so their checkpoints land in `$LENET_CACHE` like the
chapter's own. The table names the machine, thread count and date it was made on.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ablation_sweep.py --output benchmarks/ablation_sweep.md
"""

from __future__ import annotations

import argparse
import datetime
from dataclasses import replace
from pathlib import Path

import torch

from booktools.reference import machine
from lenet_utils import count_parameters, load_fashion_mnist, train_or_load
from lenet_utils.exercises.ch5 import FINAL_CONFIG as FINAL  # chapter 5's final configuration (step 7)

RUNS = {
    "final": FINAL,
    "A": replace(FINAL, dropout=0.2, max_shift=2, widths=(16, 32, 64, 84), epochs=15),
    "B": replace(FINAL, widths=(16, 32, 64, 84), epochs=15),
    "C": replace(FINAL, epochs=12),
    "D": replace(FINAL, flip=False, epochs=12),
}


def table() -> str:
    """Train (or load) every run and return the Markdown table with the machine it ran on."""
    data = load_fashion_mnist()
    rows = [
        "| run | widths | epochs | dropout | flips | shifts | parameters | validation accuracy | seconds |",
        "| --- | --- | ---: | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for name, config in RUNS.items():
        history = train_or_load(config, data).history
        shifts = f"up to {config.max_shift} pixels" if config.max_shift else "none"
        rows.append(
            f"| {name} | {config.widths} | {config.epochs} | {config.dropout or 'none'} | "
            f"{'yes' if config.flip else 'no'} | {shifts} | {count_parameters(config.build_model()):,} | "
            f"{history.val_acc[-1]:.2%} | {sum(history.seconds):.0f} |"
        )
    made = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Made by `benchmarks/ablation_sweep.py` on {made}: {machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} training thread(s). Validation accuracy after the last epoch; seconds "
        "are those recorded when each checkpoint was trained (the machine may have been busy)."
    )
    return "\n".join([header, "", *rows, ""])


def main() -> None:
    """Print the table, and write it to --output if given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    text = table()
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
