"""Batch-level data augmentation on normalized image tensors (chapter 5)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class FlipShift:
    """Randomly mirror images left-right and shift them by up to `max_shift` pixels, per image (chapter 5)."""

    def __init__(self, flip: bool = True, max_shift: int = 2, seed: int = 0) -> None:
        if max_shift < 0:
            raise ValueError(f"max_shift must be non-negative, got {max_shift}")
        self.flip, self.max_shift = flip, max_shift
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Return an augmented copy of a batch shaped N×C×H×W."""
        n, _, h, w = images.shape
        if self.flip:
            mirror = torch.rand(n, generator=self.generator) < 0.5
            images = torch.where(mirror.view(n, 1, 1, 1).to(images.device), images.flip(-1), images)
        s = self.max_shift
        if s == 0:
            return images
        # Pad with the background value (each image's minimum), then crop a random window per image.
        background = images.amin(dim=(1, 2, 3), keepdim=True)
        padded = F.pad(images - background, (s, s, s, s)) + background
        dy, dx = torch.randint(0, 2 * s + 1, (2, n), generator=self.generator).to(images.device)
        rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]
        batch = torch.arange(n, device=images.device)[:, None, None, None]
        channel = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
        return padded[batch, channel, rows, cols]
