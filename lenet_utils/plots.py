"""Plots the chapters share: image grids, learning curves, confusion matrices."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .data import CLASS_NAMES
from .loop import History

# Okabe & Ito's colour-blind-safe palette, strongest contrast first (black left out: it vanishes in dark
# mode), and line styles and markers to pair with it, so that curves stay distinct in grey-scale print too
# (plot_histories draws training and validation with the first two of each).
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
LINE_STYLES: tuple[str, ...] = ("-", "--", "-.", ":")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
SEQUENTIAL_CMAP = "viridis"  # perceptually uniform and colour-blind safe


def show_images(images: torch.Tensor, titles: Sequence[str], ncols: int = 8, size: float = 1.3) -> Figure:
    """Draw images (N×28×28 or N×1×28×28, any scale) in a grid with a title under each (chapter 1)."""
    images = images.reshape(len(images), 28, 28).detach().cpu().numpy()
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.35)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):  # the last row may have empty axes
        ax.imshow(image, cmap="gray_r")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_histories(histories: Mapping[str, History]) -> Figure:
    """Plot loss and accuracy per epoch, one colour per run; training solid with circles, validation dashed
    with squares.

    Explained in chapter 2. Runs beyond the palette's seven colours start it again.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    train_style = {"linestyle": LINE_STYLES[0], "marker": MARKERS[0]}
    val_style = {"linestyle": LINE_STYLES[1], "marker": MARKERS[1]}
    for (name, h), colour in zip(histories.items(), itertools.cycle(PALETTE)):
        epochs = np.arange(1, h.epochs + 1)
        ax_loss.plot(epochs, h.train_loss, color=colour, label=f"{name} train", **train_style)
        ax_loss.plot(epochs, h.val_loss, color=colour, label=f"{name} validation", **val_style)
        ax_acc.plot(epochs, np.array(h.train_acc) * 100, color=colour, label=f"{name} train", **train_style)
        ax_acc.plot(epochs, np.array(h.val_acc) * 100, color=colour, label=f"{name} validation", **val_style)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax_acc.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix: np.ndarray, title: str, class_names: Sequence[str] = CLASS_NAMES) -> Figure:
    """Draw a row-normalized confusion matrix (rows: true class) with a value in every cell (chapter 4)."""
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(matrix, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    for i, j in np.ndindex(matrix.shape):
        ax.text(
            j,
            i,
            f"{matrix[i, j]:.2f}",
            ha="center",
            va="center",
            fontsize=7,
            color="black" if matrix[i, j] > 0.5 else "white",
        )
    fig.tight_layout()
    return fig
