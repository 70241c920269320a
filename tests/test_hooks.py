"""Capturing what layers output (lenet_utils.hooks)."""

from __future__ import annotations

import pytest
import torch

from lenet_utils import capture_outputs, lenet5


@pytest.fixture
def model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return lenet5("relu")


@pytest.fixture
def images() -> torch.Tensor:
    return torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def test_capture_outputs_returns_each_named_modules_output(model, images):
    captured = capture_outputs(model, images, {"first": model.conv1, "last": model.fc2})
    assert list(captured) == ["first", "last"]
    assert captured["first"].shape == (3, 6, 28, 28)
    assert torch.equal(captured["last"], model(images))


def test_capture_outputs_removes_its_hooks(model, images):
    modules = {"conv1": model.conv1, "fc2": model.fc2}
    capture_outputs(model, images, modules)
    assert all(not module._forward_hooks for module in model.modules()), "a hook stayed attached"


def test_capture_outputs_removes_its_hooks_when_the_model_fails(model):
    with pytest.raises(RuntimeError):
        capture_outputs(model, torch.randn(2, 3, 28, 28), {"conv1": model.conv1})  # 3 channels, not 1
    assert not model.conv1._forward_hooks


def test_capture_outputs_runs_in_eval_mode_without_gradients(model, images):
    model.train()
    captured = capture_outputs(model, images, {"fc2": model.fc2})
    assert not model.training
    assert not captured["fc2"].requires_grad
    assert captured["fc2"].device == torch.device("cpu")
