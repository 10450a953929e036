"""The RNN layers over whole sequences: float64 NumPy recurrences, masks, states, shapes and errors."""
import itertools

import numpy as np
import pytest
import torch

import cornu
from cornu.layers import GRU, LSTM, RNN, GRUCell, Layer, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells
from cornu.symbolic import KerasTensor
from tests.helpers import assert_close, random_array
from tests.layers.rnn.references import gru_step, lstm_step, run_rnn, simple_rnn_step

X = random_array((3, 5, 4), seed=1)
RIGHT = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
SCATTERED = np.array([[0, 1, 1, 0, 1], [1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], bool)


def _with_weights(layer, input_dim=4, seed=0, scale=0.6, batch=None):
    layer.build((batch, 5, input_dim))
    weights = [random_array(w.shape, seed=seed + i) * scale for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    return weights


def _step_for(name, weights, **kw):
    if name == "SimpleRNN":
        return lambda x, s: simple_rnn_step(x, s, *weights)
    if name == "LSTM":
        return lambda x, s: lstm_step(x, s, *weights)
    return lambda x, s: gru_step(x, s, *weights, reset_after=kw.get("reset_after", True))


def _np(t):
    return [_np(a) for a in t] if isinstance(t, (list, tuple)) else t.detach().numpy()


LAYERS = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})]


@pytest.mark.parametrize("name,kw", LAYERS)
@pytest.mark.parametrize("mask", [None, RIGHT, SCATTERED], ids=["nomask", "right", "scattered"])
def test_layers_match_the_numpy_recurrence(name, kw, mask):
    for return_sequences, go_backwards, zero_output in itertools.product([False, True], repeat=3):
        layer = getattr(cornu.layers, name)(3, return_sequences=return_sequences, return_state=True,
                                            go_backwards=go_backwards, zero_output_for_mask=zero_output, **kw)
        weights = _with_weights(layer)
        n_states = 2 if name == "LSTM" else 1
        init = [random_array((3, 3), seed=20 + i) for i in range(n_states)]
        out = _np(layer(X, initial_state=init, mask=mask))
        last, seq, states = run_rnn(_step_for(name, weights, **kw), X, init, mask, go_backwards, zero_output)
        assert_close(out[0], seq if return_sequences else last)
        for got, ref in zip(out[1:], states):
            assert_close(got, ref)


def test_return_combinations_structure():
    for return_sequences, return_state in itertools.product([False, True], repeat=2):
        out = LSTM(2, return_sequences=return_sequences, return_state=return_state)(X)
        main = out[0] if return_state else out
        assert tuple(main.shape) == ((3, 5, 2) if return_sequences else (3, 2))
        if return_state:
            assert isinstance(out, tuple) and len(out) == 3 and all(tuple(s.shape) == (3, 2) for s in out[1:])
            assert torch.equal(out[1], main[:, -1] if return_sequences else main)
    assert len(GRU(2, return_state=True)(X)) == 2


def test_symbolic_shapes():
    x = cornu.Input((5, 4))
    assert LSTM(3)(x).shape == (None, 3)
    out = LSTM(3, return_sequences=True, return_state=True)(x, initial_state=[cornu.Input((3,)), cornu.Input((3,))])
    assert [t.shape for t in out] == [(None, 5, 3), (None, 3), (None, 3)]
    assert GRU(2, return_sequences=True)(cornu.Input((None, 4))).shape == (None, None, 2)
    assert SimpleRNN(2).compute_output_shape((7, 5, 4)) == (7, 2)
    stacked = RNN([SimpleRNNCell(2), LSTMCell(3)], return_state=True)(x)
    assert isinstance(stacked[1], KerasTensor) and [t.shape for t in stacked[2]] == [(None, 3), (None, 3)]


def test_masks_from_embedding_and_output_mask():
    ids = np.array([[3, 1, 2, 0, 0], [4, 0, 0, 0, 0]])
    emb = cornu.layers.Embedding(6, 4, mask_zero=True)
    lstm = LSTM(3, return_sequences=True)
    seq = lstm(emb(ids))
    np.testing.assert_array_equal(seq._keras_mask.numpy(), ids != 0)
    explicit = lstm(emb(ids), mask=torch.as_tensor(ids != 0))
    assert_close(seq, explicit)
    last = LSTM(3)(emb(ids))
    assert getattr(last, "_keras_mask", None) is None
    model = cornu.Sequential([cornu.Input((5,), dtype="int32"), cornu.layers.Embedding(6, 4, mask_zero=True),
                              LSTM(3)])
    padded = model.predict(ids, verbose=0)
    embedding, recurrent = model.layers
    for row, length in enumerate((3, 1)):
        alone = recurrent(embedding(ids[row:row + 1, :length])).detach().numpy()
        assert_close(padded[row], alone[0])


def test_mask_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4\).*\(3, 5\)"):
        LSTM(2)(X, mask=np.ones((3, 4), bool))


def test_bad_input_rank_names_the_layer():
    with pytest.raises(ValueError, match=r'layer "my_lstm".*expected ndim=3, found ndim=2.*\(3, 4\)'):
        LSTM(2, name="my_lstm")(X[:, 0])
    with pytest.raises(ValueError, match="ndim=3"):
        RNN(LSTMCell(2))(X[:, 0])


def test_initial_state_of_the_wrong_size_names_the_expected_shapes():
    with pytest.raises(ValueError, match=r"expects 2 initial state\(s\) of shapes \[\(3, 2\), \(3, 2\)\]"):
        LSTM(2)(X, initial_state=[np.zeros((3, 2), "float32")])
    with pytest.raises(ValueError, match=r"\[\(3, 2\)\].*\[\(3, 5\)\]"):
        GRU(2)(X, initial_state=np.zeros((3, 5), "float32"))


def test_get_initial_state():
    states = LSTM(3).get_initial_state(4)
    assert len(states) == 2 and all(tuple(s.shape) == (4, 3) and not s.any() for s in states)
    stacked = RNN([SimpleRNNCell(2), LSTMCell(3)]).get_initial_state(2)
    assert [[tuple(s.shape) for s in c] for c in stacked] == [[(2, 2)], [(2, 3), (2, 3)]]


def test_stateful_carries_states_across_batches_and_resets():
    layer = GRU(3, stateful=True, return_sequences=True)
    weights = _with_weights(layer, batch=3)
    step = _step_for("GRU", weights)
    batches = [random_array((3, 5, 4), seed=30 + i) for i in range(3)]
    state = [np.zeros((3, 3))]
    for i, x in enumerate(batches):
        if i == 2:
            layer.reset_states()
            state = [np.zeros((3, 3))]
        _, seq, state = run_rnn(step, x, state)
        assert_close(layer(x), seq)
        assert_close(layer.states[0].numpy(), state[0])
    with pytest.raises(ValueError, match="Expected batch size: 3"):
        layer(random_array((2, 5, 4)))


def test_stateful_needs_a_static_batch_size():
    with pytest.raises(ValueError, match="batch size must be static"):
        cornu.Sequential([cornu.Input((5, 4)), LSTM(2, stateful=True)])
    model = cornu.Sequential([cornu.Input((5, 4), batch_size=3), LSTM(2, stateful=True)])
    assert [tuple(s.shape) for s in model.layers[0].states] == [(3, 2), (3, 2)]
    assert LSTM(2).states is None


def test_stateful_training_step_backpropagates():
    model = cornu.Sequential([cornu.Input((5, 4), batch_size=3), LSTM(2, stateful=True), cornu.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.concatenate([X, X]), np.ones((6, 1)), batch_size=3, epochs=2, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_unroll_gives_the_same_numbers():
    a, b = LSTM(3, return_sequences=True), LSTM(3, return_sequences=True, unroll=True)
    weights = _with_weights(a)
    _with_weights(b)
    b.set_weights(weights)
    assert_close(a(X), b(X), rtol=1e-5)


class MinimalCell(Layer):
    """Keras's example cell: ``h = x @ kernel + h_prev @ recurrent_kernel``, two states."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, 1]

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        h = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return h, [h, states[1] + 1]


def test_custom_cell():
    cell = MinimalCell(3)
    layer = RNN(cell, return_sequences=True, return_state=True)
    seq, h, count = _np(layer(X, mask=SCATTERED))
    k, r = cell.kernel.numpy().astype("float64"), cell.recurrent_kernel.numpy().astype("float64")

    def step(x, s):
        h = x @ k + s[0] @ r
        return h, [h, s[1] + 1]

    _, ref_seq, ref_states = run_rnn(step, X, [np.zeros((3, 3)), np.zeros((3, 1))], SCATTERED)
    assert_close(seq, ref_seq, rtol=1e-5)
    assert_close(count[:, 0], SCATTERED.sum(1))
    assert [w.path for w in layer.weights] == [f"{layer.name}/{cell.name}/kernel",
                                               f"{layer.name}/{cell.name}/recurrent_kernel"]
    with pytest.raises(ValueError, match="state_size"):
        RNN(cornu.layers.Dense(2))


def test_stacked_cells_run_bottom_up():
    cells = [SimpleRNNCell(3), GRUCell(2)]
    layer = RNN(cells, return_state=True)
    w = _with_weights(layer)
    out, s1, s2 = _np(layer(X))
    stack = StackedRNNCells  # the list became one
    assert isinstance(layer.cell, stack)

    def step(x, states):
        h1, _ = simple_rnn_step(x, [states[0]], *w[:3])
        h2, _ = gru_step(h1, [states[1]], *w[3:])
        return h2, [h1, h2]

    last, _, states = run_rnn(step, X, [np.zeros((3, 3)), np.zeros((3, 2))])
    assert_close(out, last)
    assert_close(s1[0], states[0])
    assert_close(s2[0], states[1])
    assert [v.path for v in layer.weights][3] == f"{layer.name}/{layer.cell.name}/{cells[1].name}/kernel"


def test_weight_paths_and_forwarded_attributes():
    layer = LSTM(2, name="enc", recurrent_dropout=0.1)
    layer.build((None, 5, 4))
    assert [v.path for v in layer.weights] == ["enc/lstm_cell/kernel", "enc/lstm_cell/recurrent_kernel",
                                               "enc/lstm_cell/bias"]
    assert (layer.units, layer.recurrent_dropout, layer.unit_forget_bias) == (2, 0.1, True)
    assert GRU(3, reset_after=False).reset_after is False


def test_regularizers_and_constraints():
    layer = LSTM(2, kernel_regularizer=cornu.regularizers.L2(0.1), recurrent_regularizer="l1",
                 activity_regularizer=cornu.regularizers.L2(1.0))
    k, r, _ = _with_weights(layer)
    out = layer(X).detach().numpy().astype("float64")
    losses = sorted(float(t.detach()) for t in layer.losses)
    expected = sorted([0.1 * np.sum(k.astype("float64") ** 2), 0.01 * np.sum(np.abs(r.astype("float64"))),
                       np.sum(out ** 2) / len(out)])
    assert losses == pytest.approx(expected, rel=1e-5)
    model = cornu.Sequential([cornu.Input((5, 4)), SimpleRNN(2, kernel_constraint=cornu.constraints.NonNeg(),
                                                             recurrent_constraint=cornu.constraints.MaxNorm(0.5))])
    model.compile(optimizer=cornu.optimizers.SGD(1.0), loss="mse")
    model.fit(X, -np.ones((3, 2)), epochs=1, verbose=0)
    kernel, recurrent, _ = model.get_weights()
    assert kernel.min() >= 0 and np.sqrt((recurrent.astype("float64") ** 2).sum(0)).max() <= 0.5 + 1e-6


def test_dropout_is_off_at_inference_and_on_in_training():
    layer = LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=0)
    _with_weights(layer)
    plain = LSTM(3)
    _with_weights(plain)
    assert_close(layer(X, training=False), plain(X))
    assert not np.allclose(_np(layer(X, training=True)), _np(plain(X)))


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_layer_config_round_trip(cls):
    layer = cls(3, return_sequences=True, go_backwards=True, dropout=0.2, activity_regularizer="l2", name="r")
    config = layer.get_config()
    assert "cell" not in config and config["units"] == 3 and config["go_backwards"] is True
    assert cls.from_config(config).get_config() == config
    rnn = RNN([SimpleRNNCell(2), LSTMCell(3)], return_state=True, name="g")
    clone = RNN.from_config(rnn.get_config())
    assert isinstance(clone.cell, StackedRNNCells) and clone.get_config() == rnn.get_config()


def test_weights_h5_round_trip(tmp_path):
    def build():
        return cornu.Sequential([cornu.Input((5, 4)), RNN([SimpleRNNCell(2), LSTMCell(3)], return_sequences=True),
                                 GRU(2, return_sequences=True), LSTM(2)])

    a, b = build(), build()
    a.save_weights(tmp_path / "m.weights.h5")
    b.load_weights(tmp_path / "m.weights.h5")
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    assert_close(a.predict(X, verbose=0), b.predict(X, verbose=0))
