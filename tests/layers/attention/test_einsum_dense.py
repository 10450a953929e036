"""EinsumDense: equation forms, kernel/bias shapes, float64 NumPy references, errors, LoRA, config, saving."""
import numpy as np
import pytest
import torch

import cornu as keras
from cornu.layers import EinsumDense
from cornu.symbolic import KerasTensor
from tests.helpers import assert_close, f64, random_array


def _with_random_weights(layer, input_shape, seed=1):
    layer.build(input_shape)
    weights = [random_array(w.shape, seed=seed + i) for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    return weights


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape, kernel_shape, bias_shape, out_shape", [
    ("ab,bc->ac", 4, "c", (2, 3), (3, 4), (4,), (2, 4)),
    ("abc,cd->abd", (None, 4), "d", (2, 5, 3), (3, 4), (4,), (2, 5, 4)),
    ("abc,cde->abde", (None, 2, 4), "de", (2, 5, 3), (3, 2, 4), (2, 4), (2, 5, 2, 4)),
    ("abc,cde->abde", (5, 2, 4), "be", (2, 5, 3), (3, 2, 4), (5, 1, 4), (2, 5, 2, 4)),
    ("abcd,cde->abe", (None, 6), "e", (2, 5, 2, 4), (2, 4, 6), (6,), (2, 5, 6)),
    ("...b,bc->...c", 4, "c", (2, 5, 6, 3), (3, 4), (4,), (2, 5, 6, 4)),
    ("ab...,bc->ac...", 4, "c", (2, 3, 5, 6), (3, 4), (4, 1, 1), (2, 4, 5, 6)),
    ("abc,cd->abd", (None, 4), None, (2, 5, 3), (3, 4), None, (2, 5, 4)),
])
def test_forms_match_numpy_einsum(equation, output_shape, bias_axes, input_shape, kernel_shape, bias_shape,
                                  out_shape):
    layer = EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    weights = _with_random_weights(layer, input_shape)
    assert layer.kernel.shape == kernel_shape
    assert (layer.bias.shape if layer.bias is not None else None) == bias_shape
    x = random_array(input_shape, seed=7)
    expected = np.einsum(equation, f64(x), f64(weights[0]))
    if bias_shape is not None:
        expected = expected + f64(weights[1])
    out = layer(x)
    assert tuple(out.shape) == out_shape
    assert_close(out, expected)


def test_activation_and_names():
    layer = EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d", activation="relu", name="proj")
    weights = _with_random_weights(layer, (2, 4, 5))
    x = random_array((2, 4, 5), seed=3)
    expected = np.maximum(np.einsum("abc,cd->abd", f64(x), f64(weights[0])) + f64(weights[1]), 0)
    assert_close(layer(x), expected)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert [w.path for w in layer.weights] == ["proj/kernel", "proj/bias"]


def test_symbolic_output_shape_keeps_unknown_dims_as_keras():
    layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
    out = layer(keras.Input((5, 3)))
    assert isinstance(out, KerasTensor) and out.shape == (None, None, 2, 4)
    assert EinsumDense("abc,cd->abd", (5, 4)).compute_output_shape((None, 5, 3)) == (None, 5, 4)
    left = EinsumDense("...b,bc->...c", 4)(keras.Input((5, 6, 3)))
    assert left.shape == (None, 5, 6, 4)


@pytest.mark.parametrize("kwargs, input_shape, match", [
    (dict(equation="ab,bc", output_shape=4), (2, 3), "Invalid einsum equation"),
    (dict(equation="a.b,bc->ac", output_shape=4), (2, 3), "Invalid einsum equation"),
    (dict(equation="ab,bc->ac", output_shape=4, bias_axes="x"), (2, 3), "Bias dimension 'x'"),
    (dict(equation="abc,cd->abx", output_shape=(None, 4)), (2, 5, 3), "Dimension 'x'"),
    (dict(equation="abc,cdx->abd", output_shape=(None, 4)), (2, 5, 3), "Weight dimension 'x'"),
    (dict(equation="abc,cd->abd", output_shape=(6, 4)), (2, 5, 3), "shared dimension 'b'"),
    (dict(equation="abc,cd->abd", output_shape=(None, 4), bias_axes="bd"), (2, 5, 3), "fully-defined"),
    (dict(equation="abc,cd->abd", output_shape=(None, 4)), (2, 5), "rank"),
])
def test_bad_arguments_raise_value_error(kwargs, input_shape, match):
    with pytest.raises(ValueError, match=match):
        EinsumDense(**kwargs).build(input_shape)


def test_get_set_weights_and_config_round_trip():
    layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="e", kernel_initializer="ones",
                       name="ed")
    weights = _with_random_weights(layer, (None, 5, 3))
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    config = layer.get_config()
    assert config["output_shape"] == (None, 2, 4) and config["equation"] == "abc,cde->abde"
    assert EinsumDense("ab,bc->ac", 4).get_config()["output_shape"] == (4,)
    clone = EinsumDense.from_config(config)
    assert clone.get_config() == config


def test_lora_update_is_added_to_the_kernel_and_saved_merged(tmp_path):
    layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de", lora_rank=2)
    layer.build((None, 5, 3))
    assert [w.name for w in layer.weights] == ["kernel", "bias", "lora_kernel_a", "lora_kernel_b"]
    assert layer.lora_kernel_a.shape == (3, 2, 2) and layer.lora_kernel_b.shape == (2, 4)
    assert not layer.kernel.trainable
    layer.lora_kernel_b.assign(random_array((2, 4), seed=4))
    kernel, bias, a, b = (f64(w) for w in layer.get_weights())
    merged = kernel + a @ b * (layer.lora_alpha / layer.lora_rank)
    x = random_array((2, 5, 3), seed=5)
    assert_close(layer(x), np.einsum("abc,cde->abde", f64(x), merged) + bias, rtol=1e-5, atol=1e-5)
    assert layer.get_config()["lora_rank"] == 2
    inp = keras.Input((5, 3))
    model = keras.Model(inp, layer(inp))
    model.save_weights(tmp_path / "lora.weights.h5")
    plain = EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")
    inp2 = keras.Input((5, 3))
    other = keras.Model(inp2, plain(inp2))
    other.load_weights(tmp_path / "lora.weights.h5")
    assert_close(plain(x), np.einsum("abc,cde->abde", f64(x), merged) + bias, rtol=1e-5, atol=1e-5)


def test_weights_file_round_trip(tmp_path):
    def make():
        inp = keras.Input((5, 3))
        return keras.Model(inp, EinsumDense("abc,cd->abd", (None, 4), bias_axes="d")(inp))

    model, other = make(), make()
    model.save_weights(tmp_path / "ed.weights.h5")
    other.load_weights(tmp_path / "ed.weights.h5")
    x = random_array((2, 5, 3))
    np.testing.assert_array_equal(model.predict(x, verbose=0), other.predict(x, verbose=0))


def test_gradients_reach_kernel_and_bias():
    layer = EinsumDense("ab,bc->ac", 3, bias_axes="c")
    layer(torch.ones(2, 4)).sum().backward()
    assert_close(layer.kernel.value.grad, np.full((4, 3), 2.0))
    assert_close(layer.bias.value.grad, np.full((3,), 2.0))


@pytest.mark.parametrize("equation,input_shape,output_shape,bias_axes,plan", [
    ("abc,cde->abde", (2, 3, 4), (None, 5, 6), "de", 1),
    ("abcd,cde->abe", (2, 3, 4, 5), (None, 6), "e", 2),
    ("...b,bc->...c", (2, 3, 4), (7,), "c", 1),
    ("abc,cde->abde", (2, 3, 4), (None, 5, 6), "e", 1),
    ("abc,cd->abd", (2, 3, 4), (None, 5), None, 1),
    ("abc,cde->abed", (2, 3, 4), (None, 6, 5), "de", None),
    ("abc,dc->abd", (2, 3, 4), (None, 5), "d", None),
])
def test_projection_equations_run_as_one_linear_with_einsums_numbers(equation, input_shape, output_shape, bias_axes,
                                                                        plan):
    from cornu.layers.attention.einsum_dense import linear_plan

    assert linear_plan(equation, len(input_shape)) == plan
    layer = EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, bias_initializer="glorot_uniform",
                        dtype="float64")
    x = random_array(input_shape, seed=3).astype("float64")
    y = layer(x).detach().numpy()
    weights = layer.get_weights()
    want = np.einsum(equation, x, weights[0]) + (weights[1] if bias_axes else 0.0)
    assert_close(y, want, rtol=1e-12, atol=1e-12)
