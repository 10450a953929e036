"""The recurrent cells, one step at a time: numbers against float64 NumPy, weights, dropout masks, config."""
import numpy as np
import pytest
import torch

from cornu.layers import GRUCell, LSTMCell, SimpleRNNCell
from tests.helpers import assert_close, random_array
from tests.layers.rnn.references import gru_step, lstm_step, simple_rnn_step


def _built(cell, input_dim=4, seed=0):
    """``cell`` built for ``input_dim`` features with random weights (Keras layout); returns the weights."""
    cell.build((None, input_dim))
    weights = [random_array(w.shape, seed=seed + i) for i, w in enumerate(cell.weights)]
    cell.set_weights(weights)
    return weights


def _step(cell, x, states, training=False):
    out, new = cell(torch.as_tensor(x), [torch.as_tensor(s) for s in states], training=training)
    return out.detach().numpy(), [s.detach().numpy() for s in new]


def test_simple_rnn_cell_step_matches_numpy():
    cell = SimpleRNNCell(3)
    kernel, recurrent, bias = _built(cell)
    x, h = random_array((2, 4), seed=10), random_array((2, 3), seed=11)
    out, states = _step(cell, x, [h])
    ref, ref_states = simple_rnn_step(x, [h], kernel, recurrent, bias)
    assert_close(out, ref)
    assert_close(states[0], ref_states[0])
    relu = SimpleRNNCell(3, activation="relu", use_bias=False)
    kernel, recurrent = _built(relu)
    out, _ = _step(relu, x, [h])
    assert_close(out, simple_rnn_step(x, [h], kernel, recurrent, None, lambda v: np.maximum(v, 0))[0])


def test_lstm_cell_step_matches_numpy():
    cell = LSTMCell(3)
    kernel, recurrent, bias = _built(cell)
    assert (kernel.shape, recurrent.shape, bias.shape) == ((4, 12), (3, 12), (12,))
    x, h, c = random_array((2, 4), seed=10), random_array((2, 3), seed=11), random_array((2, 3), seed=12)
    out, states = _step(cell, x, [h, c])
    ref, ref_states = lstm_step(x, [h, c], kernel, recurrent, bias)
    assert_close(out, ref)
    assert_close(states[0], ref_states[0])
    assert_close(states[1], ref_states[1])


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_cell_step_matches_numpy(reset_after):
    cell = GRUCell(3, reset_after=reset_after)
    kernel, recurrent, bias = _built(cell)
    assert bias.shape == ((2, 9) if reset_after else (9,))
    x, h = random_array((2, 4), seed=10), random_array((2, 3), seed=11)
    out, states = _step(cell, x, [h])
    ref, _ = gru_step(x, [h], kernel, recurrent, bias, reset_after=reset_after)
    assert_close(out, ref)
    assert_close(states[0], ref)


def test_cells_accept_a_bare_state_tensor_and_return_one():
    for cell in (SimpleRNNCell(2), GRUCell(2)):
        _built(cell)
        out, state = cell(torch.ones(1, 4), torch.zeros(1, 2))
        assert isinstance(state, torch.Tensor) and torch.equal(out, state)


def test_state_sizes_and_initial_states():
    assert SimpleRNNCell(3).state_size == 3 and GRUCell(3).state_size == 3
    assert LSTMCell(3).state_size == [3, 3] and LSTMCell(3).output_size == 3
    states = LSTMCell(3).get_initial_state(2)
    assert len(states) == 2 and all(s.shape == (2, 3) and not s.any() for s in states)
    assert [s.shape for s in GRUCell(4).get_initial_state(5)] == [(5, 4)]


def test_weights_are_stored_in_torch_layout_and_shown_in_keras_layout():
    cell = LSTMCell(3)
    kernel, recurrent, bias = _built(cell)
    assert tuple(cell.kernel.value.shape) == (12, 4)
    np.testing.assert_array_equal(cell.kernel.value.detach().numpy(), kernel.T)
    np.testing.assert_array_equal(cell.recurrent_kernel.numpy(), recurrent)
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]


def test_unit_forget_bias_and_orthogonal_recurrent_kernel():
    cell = LSTMCell(4, bias_initializer="zeros")
    cell.build((None, 3))
    np.testing.assert_array_equal(cell.bias.numpy(), np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    plain = LSTMCell(4, unit_forget_bias=False, bias_initializer="ones")
    plain.build((None, 3))
    np.testing.assert_array_equal(plain.bias.numpy(), np.ones(16))
    r = cell.recurrent_kernel.numpy().astype("float64")      # (4, 16): orthonormal rows
    assert_close(r @ r.T, np.eye(4), atol=1e-5)
    gru = GRUCell(5)
    gru.build((None, 3))
    r = gru.recurrent_kernel.numpy().astype("float64")
    assert_close(r @ r.T, np.eye(5), atol=1e-5)


def test_dropout_masks_are_drawn_once_per_sequence_and_per_gate():
    cell = LSTMCell(3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    _built(cell)
    x = torch.ones(6, 4)
    masks = cell.get_dropout_mask(x)
    assert len(masks) == 4 and cell.get_dropout_mask(x) is masks
    for m in masks:
        assert set(np.unique(m.numpy())) <= {0.0, 2.0}
    assert not all(torch.equal(masks[0], m) for m in masks[1:])
    assert len(cell.get_recurrent_dropout_mask(torch.ones(6, 3))) == 4
    cell.reset_dropout_mask()
    assert cell.get_dropout_mask(x) is not masks
    assert len(GRUCell(2, dropout=0.3).get_dropout_mask(x)) == 3
    assert isinstance(SimpleRNNCell(2, dropout=0.3).get_dropout_mask(x), torch.Tensor)
    assert SimpleRNNCell(2).get_dropout_mask(x) is None


def test_seeded_dropout_masks_repeat():
    a, b = SimpleRNNCell(2, dropout=0.5, seed=7), SimpleRNNCell(2, dropout=0.5, seed=7)
    x = torch.ones(8, 5)
    assert torch.equal(a.get_dropout_mask(x), b.get_dropout_mask(x))


def test_simple_rnn_cell_dropout_applies_the_masks_in_training_only():
    cell = SimpleRNNCell(3, dropout=0.5, recurrent_dropout=0.5, seed=3)
    kernel, recurrent, bias = _built(cell)
    x, h = random_array((4, 4), seed=10), random_array((4, 3), seed=11)
    out, _ = _step(cell, x, [h], training=True)
    dp, rdp = cell.get_dropout_mask(torch.as_tensor(x)).numpy(), cell.get_recurrent_dropout_mask(
        torch.as_tensor(h)).numpy()
    assert_close(out, np.tanh((x * dp) @ kernel + (h * rdp) @ recurrent + bias))
    cell.reset_dropout_mask()
    out, _ = _step(cell, x, [h], training=False)
    assert_close(out, simple_rnn_step(x, [h], kernel, recurrent, bias)[0])


def test_gru_cell_recurrent_dropout_uses_one_mask_per_gate():
    cell = GRUCell(3, recurrent_dropout=0.4, seed=5, reset_after=False)
    kernel, recurrent, bias = _built(cell)
    x, h = random_array((4, 4), seed=10), random_array((4, 3), seed=11)
    out, _ = _step(cell, x, [h], training=True)
    m_z, m_r, m_h = (m.numpy() for m in cell.get_recurrent_dropout_mask(torch.as_tensor(h)))
    from tests.layers.rnn.references import sigmoid

    x_z, x_r, x_h = np.split(x @ kernel + bias, 3, -1)
    k_z, k_r, k_h = np.split(recurrent, 3, -1)
    z, r = sigmoid(x_z + (h * m_z) @ k_z), sigmoid(x_r + (h * m_r) @ k_r)
    assert_close(out, z * h + (1 - z) * np.tanh(x_h + (r * (h * m_h)) @ k_h))


def test_dropout_rates_are_clipped_and_units_checked():
    assert SimpleRNNCell(2, dropout=1.5, recurrent_dropout=-1).get_config()["dropout"] == 1.0
    assert LSTMCell(2, recurrent_dropout=-0.5).recurrent_dropout == 0.0
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            LSTMCell(bad)
    with pytest.raises(TypeError, match="units"):
        GRUCell(None)


@pytest.mark.parametrize("cls,extra", [(SimpleRNNCell, {}), (LSTMCell, {"unit_forget_bias": False}),
                                       (GRUCell, {"reset_after": False})])
def test_cell_config_round_trip(cls, extra):
    cell = cls(3, dropout=0.25, recurrent_dropout=0.1, kernel_regularizer="l2", seed=4, name="c", **extra)
    config = cell.get_config()
    assert config["units"] == 3 and config["dropout"] == 0.25 and config["seed"] == 4
    assert {k: config[k] for k in extra} == extra
    clone = cls.from_config(config)
    assert clone.get_config() == config
