"""LeNet-5 as an `nn.Sequential` with the original post's module names, plus chapter 5's knobs."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
POOLS: dict[str, type[nn.Module]] = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
LENET5_WIDTHS = (6, 16, 120, 84)


def _choice(kind: str, value: str, options: dict) -> type[nn.Module]:
    """Look `value` up in `options`, or raise a ValueError that lists the choices."""
    if value not in options:
        raise ValueError(f"unknown {kind} {value!r}; choose one of: {', '.join(options)}")
    return options[value]


def build_lenet(
    activation: str = "tanh",
    act_after_conv2: bool = False,
    pool: str = "avg",
    batch_norm: bool = False,
    dropout: float = 0.0,
    widths: tuple[int, int, int, int] = LENET5_WIDTHS,
) -> nn.Sequential:
    """Build LeNet-5 (28×28 input padded to 32×32 by conv1) with the modern changes chapter 5 adds one by one."""
    act = _choice("activation", activation, ACTIVATIONS)
    pool_cls = _choice("pool", pool, POOLS)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    c1, c2, c3, f1 = widths
    layers: list[tuple[str, nn.Module]] = [("conv1", nn.Conv2d(1, c1, kernel_size=5, padding=2))]
    if batch_norm:
        layers.append(("bn1", nn.BatchNorm2d(c1)))
    layers += [
        (f"{activation}1", act()),
        (f"{pool}_pool1", pool_cls(2, 2)),
        ("conv2", nn.Conv2d(c1, c2, kernel_size=5)),
    ]
    if batch_norm:
        layers.append(("bn2", nn.BatchNorm2d(c2)))
    if act_after_conv2:
        layers.append((f"{activation}_conv2", act()))
    layers += [(f"{pool}_pool2", pool_cls(2, 2)), ("conv3", nn.Conv2d(c2, c3, kernel_size=5))]
    if batch_norm:
        layers.append(("bn3", nn.BatchNorm2d(c3)))
    layers += [(f"{activation}2", act()), ("flatten", nn.Flatten(start_dim=1))]
    if dropout:
        layers.append(("dropout1", nn.Dropout(dropout)))
    layers += [("fc1", nn.Linear(c3, f1)), (f"{activation}3", act())]
    if dropout:
        layers.append(("dropout2", nn.Dropout(dropout)))
    layers.append(("fc2", nn.Linear(f1, 10)))
    return nn.Sequential(OrderedDict(layers))


def lenet5(activation: str = "tanh", act_after_conv2: bool = False) -> nn.Sequential:
    """Return the original post's LeNet-5 (61,706 parameters) with `activation`, a key of ACTIVATIONS (chapter 2)."""
    return build_lenet(activation, act_after_conv2=act_after_conv2)


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
