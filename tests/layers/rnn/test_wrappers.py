"""``Bidirectional`` and ``TimeDistributed``: merges against NumPy, masks, states, shapes, errors, config."""
import numpy as np
import pytest
import torch

import cornu
from cornu.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN, TimeDistributed
from tests.helpers import assert_close, random_array
from tests.layers.rnn.references import lstm_step, run_rnn, simple_rnn_step

X = random_array((3, 5, 4), seed=1)
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)
MERGES = {"concat": lambda a, b: np.concatenate([a, b], -1), "sum": np.add, "mul": np.multiply,
          "ave": lambda a, b: (a + b) / 2}


def _bidi(merge_mode="concat", **kw):
    layer = Bidirectional(SimpleRNN(3, **kw), merge_mode=merge_mode)
    layer.build((None, 5, 4))
    weights = [random_array(w.shape, seed=i) * 0.7 for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    return layer, weights


def _reference(weights, mask=None, return_sequences=False):
    fwd = run_rnn(lambda x, s: simple_rnn_step(x, s, *weights[:3]), X, [np.zeros((3, 3))], mask,
                  zero_output_for_mask=return_sequences)
    bwd = run_rnn(lambda x, s: simple_rnn_step(x, s, *weights[3:]), X, [np.zeros((3, 3))], mask, go_backwards=True,
                  zero_output_for_mask=return_sequences)
    if return_sequences:
        return fwd[1], bwd[1][:, ::-1], fwd[2], bwd[2]
    return fwd[0], bwd[0], fwd[2], bwd[2]


@pytest.mark.parametrize("merge_mode", list(MERGES))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("mask", [None, MASK], ids=["nomask", "mask"])
def test_merge_modes_match_numpy(merge_mode, return_sequences, mask):
    layer, weights = _bidi(merge_mode, return_sequences=return_sequences)
    y, y_rev, _, _ = _reference(weights, mask, return_sequences)
    assert_close(layer(X, mask=mask), MERGES[merge_mode](y, y_rev))


def test_merge_mode_none_and_return_state():
    layer, weights = _bidi(None, return_sequences=True, return_state=True)
    y, y_rev, h_f, h_b = _reference(weights, MASK, True)
    out = layer(X, mask=MASK)
    assert isinstance(out, tuple) and len(out) == 4
    for got, ref in zip(out, [y, y_rev, h_f[0], h_b[0]]):
        assert_close(got, ref)
    assert torch.equal(out[0]._keras_mask, torch.as_tensor(MASK))


def test_initial_state_splits_forward_then_backward():
    layer = Bidirectional(LSTM(2, return_state=True), merge_mode="sum")
    layer.build((None, 5, 4))
    weights = [random_array(w.shape, seed=i) * 0.7 for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    init = [random_array((3, 2), seed=10 + i) for i in range(4)]
    out = layer(X, initial_state=init)
    fwd = run_rnn(lambda x, s: lstm_step(x, s, *weights[:3]), X, init[:2])
    bwd = run_rnn(lambda x, s: lstm_step(x, s, *weights[3:]), X, init[2:], go_backwards=True)
    assert_close(out[0], fwd[0] + bwd[0])
    for got, ref in zip(out[1:], fwd[2] + bwd[2]):
        assert_close(got, ref)
    with pytest.raises(ValueError, match="even number of initial states"):
        layer(X, initial_state=init[:3])


def test_sublayers_names_paths_and_symbolic_shapes():
    layer = Bidirectional(GRU(2, name="g", return_sequences=True, return_state=True), name="bi")
    out = layer(cornu.Input((5, 4)))
    assert [t.shape for t in out] == [(None, 5, 4), (None, 2), (None, 2)]
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_g", "backward_g")
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert [v.path for v in layer.weights][:1] == ["bi/forward_g/gru_cell/kernel"]
    assert [v.path for v in layer.weights][3] == "bi/backward_g/gru_cell/kernel"
    assert Bidirectional(LSTM(3), merge_mode=None).compute_output_shape((None, 5, 4)) == ((None, 3), (None, 3))


def test_custom_backward_layer_and_checks():
    layer = Bidirectional(LSTM(2), backward_layer=GRU(3, go_backwards=True, name="back"), merge_mode="concat")
    assert tuple(layer(X).shape) == (3, 5)
    assert layer.backward_layer.name == "back"
    with pytest.raises(ValueError, match="different `go_backwards`"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match='attribute "return_sequences"'):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        Bidirectional("lstm")


def test_non_recurrent_layer_is_refused():
    with pytest.raises(ValueError, match="recurrent layer.*Dense") as info:
        Bidirectional(Dense(3))
    assert isinstance(info.value, TypeError)   # Keras 3.15 raises TypeError here


def test_stateful_bidirectional_and_weights_argument():
    layer = Bidirectional(LSTM(2, stateful=True))
    layer(X)
    assert len(layer.states) == 4 and layer.states[0].numpy().any()
    layer.reset_states()
    assert not any(s.numpy().any() for s in layer.states)
    weights = [random_array(w.shape, seed=i) for i, w in enumerate(layer.weights)]
    given = Bidirectional(LSTM(2), weights=weights)
    given.build((None, 5, 4))
    for a, b in zip(given.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_config_round_trip():
    layer = Bidirectional(LSTM(2, return_sequences=True, name="enc"), merge_mode="ave", name="bi")
    config = layer.get_config()
    assert config["layer"]["config"]["name"] == "forward_enc"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = Bidirectional.from_config(config)
    assert clone.forward_layer.name == "forward_enc" and clone.get_config() == config


def test_time_distributed_dense_matches_numpy():
    layer = TimeDistributed(Dense(3, activation="tanh"))
    layer.build((None, 5, 4))
    kernel, bias = random_array((4, 3), seed=3), random_array((3,), seed=4)
    layer.set_weights([kernel, bias])
    assert_close(layer(X), np.tanh(X.astype("float64") @ kernel + bias))
    assert [v.path for v in layer.weights] == [f"{layer.name}/{layer.layer.name}/kernel",
                                               f"{layer.name}/{layer.layer.name}/bias"]
    assert TimeDistributed(Dense(2))(cornu.Input((None, 4))).shape == (None, None, 2)
    conv = TimeDistributed(cornu.layers.Conv2D(2, 3))
    assert conv(cornu.Input((5, 8, 8, 1))).shape == (None, 5, 6, 6, 2)


def test_time_distributed_passes_the_mask_through():
    out = TimeDistributed(Dense(2))(X, mask=MASK)
    assert torch.equal(out._keras_mask, torch.as_tensor(MASK))
    seq = TimeDistributed(LSTM(2))(np.repeat(X[:, :, None], 3, axis=2))
    assert tuple(seq.shape) == (3, 5, 2)


def test_time_distributed_errors_and_config():
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        TimeDistributed(3)
    with pytest.raises(ValueError, match=r"at least 3 dimensions, received: \(3, 4\)"):
        TimeDistributed(Dense(2))(X[:, 0])
    layer = TimeDistributed(Dense(2), name="td")
    clone = TimeDistributed.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config() and isinstance(clone.layer, Dense)


def test_wrapped_models_save_and_load(tmp_path):
    def build():
        return cornu.Sequential([cornu.Input((5, 4)), Bidirectional(GRU(2, return_sequences=True)),
                                 TimeDistributed(Dense(3)), Bidirectional(LSTM(2), merge_mode="sum")])

    a, b = build(), build()
    a.save_weights(tmp_path / "w.weights.h5")
    b.load_weights(tmp_path / "w.weights.h5")
    assert_close(a.predict(X, verbose=0), b.predict(X, verbose=0))
    a.save(tmp_path / "m.keras")
    c = cornu.models.load_model(tmp_path / "m.keras")
    assert_close(a.predict(X, verbose=0), c.predict(X, verbose=0))
