"""ConvLSTM1D/2D/3D: a float64 NumPy ConvLSTM (convolution written out), states, masks, shapes and errors."""
import itertools
import math

import numpy as np
import pytest
import torch

import cornu
from cornu.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from tests.helpers import assert_close, random_array
from tests.layers.rnn.references import sigmoid

X = random_array((2, 3, 6, 5, 2), seed=1)  # (batch, time, rows, cols, channels)


def conv_np(x, kernel, strides, padding, dilation):
    """Keras's channels_last convolution in float64: ``x (n, *spatial, in)``, ``kernel (*k, in, out)``."""
    x = np.asarray(x, np.float64)
    rank = kernel.ndim - 2
    ks = kernel.shape[:rank]
    if padding == "same":
        pads = []
        for length, k, s, d in zip(x.shape[1:-1], ks, strides, dilation):
            total = max((math.ceil(length / s) - 1) * s + (k - 1) * d + 1 - length, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(length - ((k - 1) * d + 1)) // s + 1 for length, k, s, d in zip(x.shape[1:-1], ks, strides,
                                                                                   dilation)]
    out = np.zeros((x.shape[0], *out_sizes, kernel.shape[-1]))
    for offset in np.ndindex(*ks):
        index = tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                      for o, d, s, n in zip(offset, dilation, strides, out_sizes))
        out += x[(slice(None),) + index] @ kernel[offset]
    return out


def conv_lstm_np(x, states, kernel, recurrent_kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """One ConvLSTM step: input conv (strides, padding, dilation) + recurrent conv (stride 1, 'same')."""
    h, c = states
    rank = kernel.ndim - 2
    z = conv_np(x, kernel, strides, padding, dilation)
    z = z + conv_np(h, recurrent_kernel, (1,) * rank, "same", (1,) * rank) + (0 if bias is None else bias)
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h = sigmoid(o) * np.tanh(c)
    return h, [h, c]


def run_np(step, x, states, mask=None, go_backwards=False):
    """Keras's loop: masked steps keep the states and repeat the previous output (zeros before any)."""
    x = np.asarray(x, np.float64)
    states = [np.asarray(s, np.float64) for s in states]
    previous, outputs = None, []
    for t in (range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])):
        out, new = step(x[:, t], states)
        if mask is not None:
            keep = mask[:, t].reshape((-1,) + (1,) * (out.ndim - 1))
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
            previous = np.where(keep, out, np.zeros_like(out) if previous is None else previous)
            out = previous
        states = new
        outputs.append(out)
    return outputs[-1], np.stack(outputs, 1), states


def _with_weights(layer, shape=(None,) + X.shape[1:], seed=0, scale=0.4):
    layer.build(shape)
    weights = [random_array(w.shape, seed=seed + i) * scale for i, w in enumerate(layer.get_weights())]
    layer.set_weights(weights)
    return weights


def _np(t):
    return [_np(a) for a in t] if isinstance(t, (list, tuple)) else t.detach().numpy()


def test_one_step_matches_the_numpy_cell():
    layer = ConvLSTM2D(3, 3, return_state=True)
    kernel, recurrent_kernel, bias = _with_weights(layer)
    x = X[:, :1]
    out, h, c = _np(layer(x))
    zeros = np.zeros((2, 4, 3, 3))
    ref_h, (_, ref_c) = conv_lstm_np(x[:, 0], [zeros, zeros], kernel, recurrent_kernel, bias)
    assert out.shape == (2, 4, 3, 3)
    assert_close(out, ref_h)
    assert_close(h, ref_h)
    assert_close(c, ref_c)


@pytest.mark.parametrize("padding,strides,dilation,kernel_size", [
    ("valid", 1, 1, 3), ("same", 1, 1, (2, 3)), ("same", 2, 1, 3), ("valid", 1, 2, 2), ("same", 1, 2, 3)])
def test_sequences_match_the_numpy_recurrence(padding, strides, dilation, kernel_size):
    for return_sequences, go_backwards in itertools.product([False, True], repeat=2):
        layer = ConvLSTM2D(4, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                           return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
        weights = _with_weights(layer)
        out = _np(layer(X))
        step_shape = layer.compute_output_shape((2,) + X.shape[1:])[1]
        zeros = np.zeros(step_shape)
        st, dl = (strides,) * 2, (dilation,) * 2
        last, seq, states = run_np(lambda x, s: conv_lstm_np(x, s, *weights, st, padding, dl), X, [zeros, zeros],
                                   go_backwards=go_backwards)
        assert_close(out[0], seq if return_sequences else last)
        assert_close(out[1], states[0])
        assert_close(out[2], states[1])


def test_mask_and_initial_state_follow_keras_loop():
    mask = np.array([[1, 0, 1], [0, 0, 1]], bool)
    layer = ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True)
    weights = _with_weights(layer)
    init = [random_array((2, 6, 5, 2), seed=30 + i) for i in range(2)]
    out = _np(layer(X, initial_state=init, mask=mask))
    _, seq, states = run_np(lambda x, s: conv_lstm_np(x, s, *weights, padding="same"), X, init, mask)
    assert_close(out[0], seq)
    assert_close(out[1], states[0])
    assert_close(out[2], states[1])


def test_channels_first_equals_channels_last_transposed():
    last = ConvLSTM2D(3, (2, 3), padding="same", return_sequences=True)
    first = ConvLSTM2D(3, (2, 3), padding="same", return_sequences=True, data_format="channels_first")
    weights = _with_weights(last)
    first.build((None, 3, 2, 6, 5))
    first.set_weights(weights)
    out_first = _np(first(np.moveaxis(X, -1, 2)))
    assert_close(np.moveaxis(out_first, 2, -1), _np(last(X)))


def test_1d_and_3d_match_the_numpy_recurrence():
    for cls, shape in ((ConvLSTM1D, (2, 3, 7, 2)), (ConvLSTM3D, (2, 2, 4, 5, 3, 2))):
        x = random_array(shape, seed=5)
        layer = cls(2, 2, padding="same")
        weights = _with_weights(layer, (None,) + shape[1:])
        zeros = np.zeros(shape[:1] + shape[2:-1] + (2,))
        rank = len(shape) - 3
        last, _, _ = run_np(lambda v, s: conv_lstm_np(v, s, *weights, (1,) * rank, "same", (1,) * rank), x,
                            [zeros, zeros])
        assert_close(_np(layer(x)), last)


def test_weights_have_keras_names_shapes_and_forget_bias():
    layer = ConvLSTM2D(3, (2, 4), use_bias=True)
    layer.build((None, 4, 8, 8, 5))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        (f"{layer.name}/conv_lstm_cell/kernel", (2, 4, 5, 12)),
        (f"{layer.name}/conv_lstm_cell/recurrent_kernel", (2, 4, 3, 12)),
        (f"{layer.name}/conv_lstm_cell/bias", (12,))]
    np.testing.assert_array_equal(layer.get_weights()[2], [0] * 3 + [1] * 3 + [0] * 6)
    no_bias = ConvLSTM1D(2, 3, use_bias=False, unit_forget_bias=False)
    no_bias.build((None, 2, 6, 1))
    assert [w.name for w in no_bias.weights] == ["kernel", "recurrent_kernel"]


def test_symbolic_output_shapes():
    inputs = cornu.Input((4, 9, 9, 3))
    out, h, c = ConvLSTM2D(2, 3, strides=2, return_sequences=True, return_state=True)(inputs)
    assert out.shape == (None, 4, 4, 4, 2) and h.shape == c.shape == (None, 4, 4, 2)
    assert ConvLSTM2D(2, 3, padding="same")(inputs).shape == (None, 9, 9, 2)
    first = ConvLSTM2D(5, 3, data_format="channels_first")(cornu.Input((4, 3, 9, 9)))
    assert first.shape == (None, 5, 7, 7)
    assert ConvLSTM1D(2, 3)(cornu.Input((None, 10, 3))).shape == (None, 8, 2)
    assert ConvLSTM3D(2, 3)(cornu.Input((2, 5, 6, 7, 1))).shape == (None, 3, 4, 5, 2)


def test_stateful_carries_states_between_calls():
    layer = ConvLSTM2D(2, 3, padding="same", stateful=True)
    weights = _with_weights(layer, (2,) + X.shape[1:])
    zeros = [np.zeros((2, 6, 5, 2))] * 2

    def reference(x):
        return run_np(lambda v, s: conv_lstm_np(v, s, *weights, padding="same"), x, zeros)[0]

    first = _np(layer(X[:, :2]))
    assert_close(first, reference(X[:, :2]))
    assert_close(_np(layer(X[:, 2:])), reference(X))
    layer.reset_states()
    assert_close(_np(layer(X[:, :2])), first)


def test_dropout_only_in_training_and_seeded():
    layer = ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=3)
    _with_weights(layer)
    x = torch.as_tensor(X)
    inference = _np(layer(x))
    assert_close(_np(layer(x, training=False)), inference)
    trained = _np(layer(x, training=True))
    assert not np.allclose(trained, inference)
    again = ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=3)
    again.build((None,) + X.shape[1:])
    again.set_weights(layer.get_weights())
    assert_close(_np(again(x, training=True)), trained)


def test_gradients_reach_every_weight():
    layer = ConvLSTM2D(2, 3, padding="same")
    layer(X).sum().backward()
    assert all(w.value.grad is not None and torch.isfinite(w.value.grad).all() for w in layer.weights)


def test_config_round_trip():
    layer = ConvLSTM3D(4, (1, 2, 3), strides=(1, 1, 2), padding="same", dropout=0.25, unit_forget_bias=False,
                       return_sequences=True, go_backwards=True, kernel_regularizer="l2")
    config = layer.get_config()
    assert config["kernel_size"] == (1, 2, 3) and config["strides"] == (1, 1, 2) and config["filters"] == 4
    assert "cell" not in config and config["zero_output_for_mask"] is False and config["unroll"] is False
    assert ConvLSTM3D.from_config(config).get_config() == config


def test_bad_input_rank_names_layer_and_ndim():
    layer = ConvLSTM2D(2, 3, name="clstm")
    with pytest.raises(ValueError, match=r"clstm.*ndim=5.*ndim=4"):
        layer(np.zeros((1, 2, 5, 5), "float32"))
    with pytest.raises(ValueError, match="ndim=4"):
        ConvLSTM1D(2, 3)(np.zeros((1, 2, 5), "float32"))


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 0}, "filters"), ({"padding": "causal"}, "padding"),
    ({"strides": 2, "dilation_rate": 2}, "strides"), ({"kernel_size": (1, 2, 3)}, "kernel_size")])
def test_bad_arguments_raise_value_error(kwargs, match):
    args = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        ConvLSTM2D(**args)


def test_wrong_initial_state_shape_raises():
    layer = ConvLSTM2D(2, 3)
    with pytest.raises(ValueError, match="initial states"):
        layer(X, initial_state=[np.zeros((2, 6, 5, 2), "float32")] * 2)
