"""Capturing what layers output, with forward hooks that are always removed."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


@torch.no_grad()
def capture_outputs(
    model: nn.Module, images: torch.Tensor, modules: Mapping[str, nn.Module]
) -> dict[str, torch.Tensor]:
    """Run `model` on `images` in eval mode and return each named module's output, on the CPU."""
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            captured[name] = output.detach().cpu()

        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in modules.items()]
    try:
        model.eval()
        model(images.to(next(model.parameters()).device))
    finally:
        for handle in handles:  # a hook left attached would run on every later call
            handle.remove()
    return captured
