"""ConvLSTM1D/2D/3D against real Keras 3.15 (torch backend): same weights in, same numbers, shapes, files, configs.

Skipped when Keras is not installed; cornu never imports it.
"""
import itertools

import numpy as np
import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402
from tests.oracle.test_rnn_oracle import _without_initializer_axes, assert_same, normalize  # noqa: E402

RNG = np.random.default_rng(0)
INPUTS = {1: RNG.standard_normal((2, 3, 7, 2)).astype("float32"),
          2: RNG.standard_normal((2, 3, 7, 6, 2)).astype("float32"),
          3: RNG.standard_normal((2, 2, 5, 4, 4, 2)).astype("float32")}
MASK = np.array([[1, 0, 1], [0, 1, 1]], bool)


def both(make, build_shape, seed=0):
    """The same layer in Keras and cornu, built, with the same random weights."""
    ref, ours = make(keras_ref), make(cornu)
    ref.build(build_shape)
    ours.build(build_shape)
    rng = np.random.default_rng(seed)
    weights = [(rng.standard_normal(w.shape) * 0.4).astype("float32") for w in ref.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ref.set_weights(weights)
    ours.set_weights(weights)
    return ref, ours


CASES = [
    (1, {"kernel_size": 3}),
    (1, {"kernel_size": 2, "padding": "same", "strides": 2}),
    (2, {"kernel_size": 3}),
    (2, {"kernel_size": (2, 3), "padding": "same", "strides": (2, 1)}),
    (2, {"kernel_size": 3, "padding": "same", "dilation_rate": 2, "use_bias": False}),
    (2, {"kernel_size": (2, 2), "data_format": "channels_first"}),
    (3, {"kernel_size": 2, "padding": "same"}),
    (3, {"kernel_size": (1, 2, 3), "activation": "relu", "recurrent_activation": "hard_sigmoid"}),
]


@pytest.mark.parametrize("rank,kw", CASES, ids=[f"{r}d-{i}" for i, (r, _) in enumerate(CASES)])
def test_outputs_and_states_match(rank, kw):
    x = INPUTS[rank]
    if kw.get("data_format") == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 2))
    for return_sequences, go_backwards in itertools.product([False, True], repeat=2):
        def make(lib):
            return getattr(lib.layers, f"ConvLSTM{rank}D")(3, return_sequences=return_sequences, return_state=True,
                                                           go_backwards=go_backwards, **kw)

        ref, ours = both(make, (None,) + x.shape[1:])
        assert_same(ours(x), ref(x))
        assert tuple(ours.compute_output_shape(x.shape)) == tuple(ref.compute_output_shape(x.shape))


def test_mask_and_initial_state_match():
    x = INPUTS[2]
    init = [RNG.standard_normal((2, 7, 6, 3)).astype("float32") for _ in range(2)]
    ref, ours = both(lambda lib: lib.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True,
                                                       return_state=True), (None,) + x.shape[1:])
    assert_same(ours(x, initial_state=init, mask=MASK), ref(x, initial_state=init, mask=MASK))


def test_stateful_runs_match():
    x = INPUTS[1]
    ref, ours = both(lambda lib: lib.layers.ConvLSTM1D(2, 3, stateful=True, padding="same"), x.shape)
    for chunk in (x[:, :1], x[:, 1:]):
        assert_same(ours(chunk), ref(chunk))
    ref.reset_states()
    ours.reset_states()
    assert_same(ours(x), ref(x))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_symbolic_shapes_match(rank):
    shape = INPUTS[rank].shape[1:]
    for return_sequences, return_state, strides in itertools.product([False, True], [False, True], [1, 2]):
        def make(lib):
            return getattr(lib.layers, f"ConvLSTM{rank}D")(2, 2, strides=strides, return_sequences=return_sequences,
                                                           return_state=return_state)

        ref, ours = make(keras_ref)(keras_ref.Input(shape)), make(cornu)(cornu.Input(shape))
        ref, ours = (ref, ours) if return_state else ((ref,), (ours,))
        assert [t.shape for t in ours] == [tuple(t.shape) for t in ref]
        assert [t.dtype for t in ours] == [t.dtype for t in ref]


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_weight_names_and_shapes_match(rank):
    ref = getattr(keras_ref.layers, f"ConvLSTM{rank}D")(4, 3, name="clstm")
    ours = getattr(cornu.layers, f"ConvLSTM{rank}D")(4, 3, name="clstm")
    shape = (None,) + INPUTS[rank].shape[1:-1] + (5,)
    ref.build(shape)
    ours.build(shape)
    assert [(v.name, v.path, tuple(v.shape)) for v in ours.weights] == \
        [(v.name, v.path, tuple(v.shape)) for v in ref.weights]
    # Initial values: same forget-gate bias and same kernel scale (Glorot uniform / orthogonal).
    np.testing.assert_array_equal(ours.get_weights()[2], ref.get_weights()[2])
    for a, b in zip(ours.get_weights()[:2], ref.get_weights()[:2]):
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.25 * np.abs(b).max()


@pytest.mark.parametrize("make", [
    lambda L: L.ConvLSTM1D(3, 2),
    lambda L: L.ConvLSTM2D(4, (2, 3), strides=2, padding="same", dropout=0.2, recurrent_dropout=0.1, seed=3,
                           kernel_regularizer="l2", return_sequences=True, go_backwards=True),
    lambda L: L.ConvLSTM2D(2, 3, data_format="channels_first", unit_forget_bias=False, use_bias=False,
                           return_state=True, stateful=True, recurrent_activation="hard_sigmoid"),
    lambda L: L.ConvLSTM3D(2, 1, dilation_rate=2, activation="relu", dropout=3.0, bias_constraint="non_neg"),
], ids=["1d", "2d", "2d_channels_first", "3d"])
def test_configs_match_and_load(make):
    ref, ours = make(keras_ref.layers), make(cornu.layers)
    ours.name = ref.name
    ref_config = normalize(ref.get_config())
    assert normalize(ours.get_config()) == ref_config
    rebuilt = cornu.saving.deserialize_keras_object(_without_initializer_axes(
        keras_ref.saving.serialize_keras_object(ref)))
    assert type(rebuilt) is type(ours)
    assert normalize(rebuilt.get_config()) == ref_config


def _model(lib):
    return lib.Sequential([lib.Input(INPUTS[2].shape[1:]), lib.layers.ConvLSTM2D(3, 3, return_sequences=True),
                           lib.layers.ConvLSTM2D(2, 2, padding="same"), lib.layers.Flatten(), lib.layers.Dense(1)])


def test_weights_files_interchange(tmp_path):
    x = INPUTS[2]
    ref, ours = _model(keras_ref), _model(cornu)
    ref.save_weights(tmp_path / "keras.weights.h5")
    ours.load_weights(tmp_path / "keras.weights.h5")
    assert_same(ours.predict(x, verbose=0), ref.predict(x, verbose=0))
    ours.save_weights(tmp_path / "cornu.weights.h5")
    again = _model(keras_ref)
    again.load_weights(tmp_path / "cornu.weights.h5")
    assert_same(again.predict(x, verbose=0), ours.predict(x, verbose=0))


@pytest.mark.parametrize("bad", [
    lambda lib: lib.layers.ConvLSTM2D(2, 3)(INPUTS[1]),
    lambda lib: lib.layers.ConvLSTM1D(2, 3)(INPUTS[2]),
    lambda lib: lib.layers.ConvLSTM2D(2, 3, padding="causal"),
    lambda lib: lib.layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2),
    lambda lib: lib.layers.ConvLSTM3D(2, (1, 2)),
], ids=["rank_low", "rank_high", "causal", "strides_dilation", "kernel_size"])
def test_error_classes_match(bad):
    with pytest.raises(Exception) as ref_error:
        bad(keras_ref)
    with pytest.raises(Exception) as ours_error:
        bad(cornu)
    assert isinstance(ours_error.value, type(ref_error.value)), (ours_error.value, ref_error.value)
