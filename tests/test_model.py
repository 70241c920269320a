"""LeNet-5 and its variants (lenet_utils.model)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lenet_utils import build_lenet, count_parameters, lenet5

LENET5_PARAMETERS = 61_706


def module_names(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_children()]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_lenet5_has_61706_parameters(activation):
    assert count_parameters(lenet5(activation)) == LENET5_PARAMETERS


def test_parameter_count_by_layer_matches_the_arithmetic():
    model = lenet5()
    expected = {
        "conv1": 6 * 1 * 5 * 5 + 6,
        "conv2": 16 * 6 * 5 * 5 + 16,
        "conv3": 120 * 16 * 5 * 5 + 120,
        "fc1": 84 * 120 + 84,
        "fc2": 10 * 84 + 10,
    }
    assert {name: count_parameters(getattr(model, name)) for name in expected} == expected


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_module_names_follow_the_original_post(activation):
    a = activation
    assert module_names(lenet5(activation)) == [
        "conv1",
        f"{a}1",
        "avg_pool1",
        "conv2",
        "avg_pool2",
        "conv3",
        f"{a}2",
        "flatten",
        "fc1",
        f"{a}3",
        "fc2",
    ]


@pytest.mark.parametrize("activation, layer", [("tanh", nn.Tanh), ("relu", nn.ReLU), ("sigmoid", nn.Sigmoid)])
def test_activation_layers_have_the_requested_type(activation, layer):
    model = lenet5(activation)
    assert [type(getattr(model, f"{activation}{i}")) for i in (1, 2, 3)] == [layer] * 3


@pytest.mark.parametrize("batch", [1, 7])
def test_output_is_ten_logits_per_28x28_image(batch):
    assert lenet5()(torch.zeros(batch, 1, 28, 28)).shape == (batch, 10)


def test_conv1_pads_28x28_to_keep_the_32x32_geometry():
    model = lenet5()
    x = torch.zeros(2, 1, 28, 28)
    shapes = []
    for layer in model:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes[:6] == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1)]


def test_act_after_conv2_adds_one_activation_and_no_parameters():
    plain, extended = lenet5("relu"), lenet5("relu", act_after_conv2=True)
    names = module_names(extended)
    assert len(names) == len(module_names(plain)) + 1
    assert names[names.index("conv2") + 1] == "relu_conv2"
    assert isinstance(extended.relu_conv2, nn.ReLU)
    assert count_parameters(extended) == LENET5_PARAMETERS


@pytest.mark.parametrize("build", [lambda: lenet5("swish"), lambda: build_lenet(activation="swish")])
def test_unknown_activation_lists_the_choices(build):
    with pytest.raises(ValueError, match="unknown activation 'swish'; choose one of: tanh, relu, sigmoid"):
        build()


def test_unknown_pool_lists_the_choices():
    with pytest.raises(ValueError, match="choose one of: avg, max"):
        build_lenet(pool="min")


def test_build_lenet_defaults_are_lenet5():
    default, original = build_lenet(), lenet5()
    assert module_names(default) == module_names(original)
    assert count_parameters(default) == LENET5_PARAMETERS


def test_max_pooling_replaces_average_pooling():
    model = build_lenet(pool="max")
    assert isinstance(model.max_pool1, nn.MaxPool2d)
    assert isinstance(model.max_pool2, nn.MaxPool2d)
    assert not any(isinstance(m, nn.AvgPool2d) for m in model.modules())
    assert count_parameters(model) == LENET5_PARAMETERS


def test_batch_norm_follows_each_convolution():
    model = build_lenet(batch_norm=True)
    names = module_names(model)
    for conv, bn, channels in (("conv1", "bn1", 6), ("conv2", "bn2", 16), ("conv3", "bn3", 120)):
        assert names[names.index(conv) + 1] == bn
        assert getattr(model, bn).num_features == channels
    assert count_parameters(model) == LENET5_PARAMETERS + 2 * (6 + 16 + 120)


def test_dropout_precedes_both_fully_connected_layers():
    model = build_lenet(dropout=0.3)
    names = module_names(model)
    assert names[names.index("fc1") - 1] == "dropout1"
    assert names[names.index("fc2") - 1] == "dropout2"
    assert model.dropout1.p == model.dropout2.p == 0.3
    assert count_parameters(model) == LENET5_PARAMETERS


def test_no_dropout_layers_by_default():
    assert not any(isinstance(m, nn.Dropout) for m in lenet5().modules())


@pytest.mark.parametrize("dropout", [-0.1, 1.0])
def test_dropout_outside_zero_to_one_is_refused(dropout):
    with pytest.raises(ValueError, match="dropout"):
        build_lenet(dropout=dropout)


def test_widths_set_the_layer_sizes():
    model = build_lenet(widths=(8, 32, 64, 50))
    assert (model.conv1.out_channels, model.conv2.out_channels, model.conv3.out_channels) == (8, 32, 64)
    assert (model.fc1.in_features, model.fc1.out_features, model.fc2.in_features) == (64, 50, 50)
    expected = (8 * 25 + 8) + (32 * 8 * 25 + 32) + (64 * 32 * 25 + 64) + (50 * 64 + 50) + (10 * 50 + 10)
    assert count_parameters(model) == expected
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_all_options_together_still_give_ten_logits():
    model = build_lenet("relu", act_after_conv2=True, pool="max", batch_norm=True, dropout=0.5)
    model.eval()
    assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)


def test_count_parameters_skips_frozen_parameters():
    model = lenet5()
    model.conv1.requires_grad_(False)
    assert count_parameters(model) == LENET5_PARAMETERS - (6 * 25 + 6)
