"""Layer behaviours a differential sweep against Keras 3.15.1 found cornu getting wrong, now pinned.

Each test builds the same layer in both libraries (the oracle skips the module without Keras) and compares
configs, masks, weight paths, numbers or error classes.
"""
import numpy as np
import pytest
import torch

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402


def _np(t):
    if isinstance(t, (list, tuple)):
        return type(t)(_np(a) for a in t)
    if t is None:
        return None
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _f(x):
    return x * 2


def _shape_fn(s):
    return s


def _mask_fn(inputs, mask):
    return mask


@pytest.mark.parametrize("kwargs", [{}, {"output_shape": (3,)}, {"output_shape": [3]}, {"output_shape": _shape_fn},
                                    {"mask": _mask_fn}, {"mask": np.array([1, 0])}])
def test_lambda_config_keys_match_keras(kwargs):
    ref = keras_ref.layers.Lambda(_f, name="l", **kwargs).get_config()
    ours = cornu.layers.Lambda(_f, name="l", **kwargs).get_config()
    assert list(ours) == list(ref)
    for key in ("output_shape", "mask"):
        if key in ref and not callable(kwargs[key]):
            assert ours[key] == ref[key]


def test_lambda_mask_argument_like_keras():
    x = np.ones((2, 3), "float32")
    m = np.array([True, False])
    for mask in (_mask_fn, np.array([True, True])):
        ref = keras_ref.layers.Lambda(_f, mask=mask)
        ours = cornu.layers.Lambda(_f, mask=mask)
        assert ours.supports_masking == ref.supports_masking
        np.testing.assert_array_equal(_np(ours.compute_mask(torch.as_tensor(x), torch.as_tensor(m))),
                                      _np(ref.compute_mask(x, m)))
    assert cornu.layers.Lambda(_f).compute_mask(torch.as_tensor(x), torch.as_tensor(m)) is None
    assert keras_ref.layers.Lambda(_f).compute_mask(x, m) is None


def test_lambda_from_keras_config_keeps_mask_and_output_shape():
    cfg = keras_ref.layers.Lambda(_f, output_shape=_shape_fn, mask=_mask_fn, name="l").get_config()
    with cornu.saving.custom_object_scope({"_f": _f, "_shape_fn": _shape_fn, "_mask_fn": _mask_fn}):
        layer = cornu.layers.Lambda.from_config(cfg)
    assert layer.mask is _mask_fn and layer._output_shape is _shape_fn and layer.function is _f


@pytest.mark.parametrize("merge_mode", ["concat", None])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("return_state", [True, False])
def test_bidirectional_compute_mask_structure(merge_mode, return_sequences, return_state):
    x = np.ones((2, 5, 4), "float32")
    m = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)

    def make(lib):
        return lib.layers.Bidirectional(lib.layers.GRU(3, return_sequences=return_sequences,
                                                       return_state=return_state), merge_mode=merge_mode)
    for mask in (m, None):
        ref = make(keras_ref).compute_mask(x, mask)
        ours = make(cornu).compute_mask(torch.as_tensor(x), None if mask is None else torch.as_tensor(mask))
        assert isinstance(ours, tuple) == isinstance(ref, tuple) and (ours is None) == (ref is None)
        if isinstance(ref, tuple):
            assert len(ours) == len(ref)
            for a, b in zip(ours, ref):
                assert (a is None) == (b is None)
                if b is not None:
                    np.testing.assert_array_equal(_np(a), b)
        elif ref is not None:
            np.testing.assert_array_equal(_np(ours), ref)


def test_bidirectional_return_state_mask_goes_to_the_sequence_only():
    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype("float32")
    x[1, 3:] = 0.0
    inp = cornu.layers.Masking()(torch.as_tensor(x))
    outs = cornu.layers.Bidirectional(cornu.layers.LSTM(3, return_sequences=True, return_state=True))(inp)
    np.testing.assert_array_equal(_np(outs[0]._keras_mask), np.any(x != 0, axis=-1))
    assert all(getattr(s, "_keras_mask", None) is None for s in outs[1:])


@pytest.mark.parametrize("inner", ["Dense", "Conv1D"])
def test_time_distributed_weight_paths_after_shape_inference(inner):
    def make(lib):
        layer = lib.layers.Dense(3) if inner == "Dense" else lib.layers.Conv1D(3, 2)
        return lib.layers.TimeDistributed(layer, name="td")
    shape = (2, 5, 4) if inner == "Dense" else (2, 5, 4, 2)
    x = np.ones(shape, "float32")
    paths = []
    for lib in (keras_ref, cornu):
        layer = make(lib)
        out_shape = layer.compute_output_shape((None,) + shape[1:])
        layer(x if lib is keras_ref else torch.as_tensor(x))
        paths.append(([w.path.split("/")[0] for w in layer.weights], tuple(out_shape)))
    assert paths[0] == paths[1]


def test_dense_compute_output_shape_builds_nothing():
    for lib in (keras_ref, cornu):
        layer = lib.layers.Dense(3)
        assert tuple(layer.compute_output_shape((None, None, 4))) == (None, None, 3)
        assert not layer.built


def test_simple_rnn_drops_activity_regularizer_like_keras():
    x = np.random.default_rng(1).standard_normal((2, 5, 4)).astype("float32")
    ref = keras_ref.layers.SimpleRNN(3, activity_regularizer="l2", kernel_regularizer="l1", name="r")
    ours = cornu.layers.SimpleRNN(3, activity_regularizer="l2", kernel_regularizer="l1", name="r")
    ref(x)
    ours(torch.as_tensor(x))
    ours.set_weights(ref.get_weights())
    ref(x)
    ours(torch.as_tensor(x))
    assert ours.get_config()["activity_regularizer"] is ref.get_config()["activity_regularizer"] is None
    np.testing.assert_allclose([float(_np(v)) for v in ours.losses], [float(_np(v)) for v in ref.losses], rtol=1e-5)


@pytest.mark.parametrize("name", ["AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool2D"])
def test_average_pooling_requires_pool_size(name):
    for lib in (keras_ref, cornu):
        with pytest.raises(TypeError):
            getattr(lib.layers, name)()
    assert getattr(cornu.layers, name)(3, name="p").get_config() == getattr(keras_ref.layers, name)(
        3, name="p").get_config()


INT_CASES = [("BatchNormalization", {}, (4,)), ("LayerNormalization", {}, (4,)),
             ("GroupNormalization", {"groups": 2}, (4,)), ("UnitNormalization", {}, (4,)),
             ("GlobalAveragePooling1D", {}, (4, 3)),
             ("GlobalAveragePooling2D", {}, (3, 3, 2)), ("LSTM", {"units": 2}, (4, 3)), ("GRU", {"units": 2}, (4, 3)),
             ("SimpleRNN", {"units": 2}, (4, 3)), ("Flatten", {}, (3, 4)), ("Reshape", {"target_shape": (-1,)}, (3, 4)),
             ("Permute", {"dims": (2, 1)}, (3, 4)), ("Identity", {}, (4,))]


@pytest.mark.parametrize("name,kwargs,shape", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_integer_inputs_give_keras_dtypes(name, kwargs, shape):
    x = np.random.default_rng(0).integers(0, 5, (2,) + shape).astype("int32")
    dtypes = []
    for lib in (keras_ref, cornu):
        sym = getattr(lib.layers, name)(**kwargs)(lib.Input(shape, dtype="int32"))
        eager = getattr(lib.layers, name)(**kwargs)(x if lib is keras_ref else torch.as_tensor(x))
        dtypes.append((str(sym.dtype), str(eager.dtype).replace("torch.", ""), tuple(eager.shape)))
    assert dtypes[1] == dtypes[0]


@pytest.mark.parametrize("name,kwargs", [("BatchNormalization", {}), ("UnitNormalization", {}),
                                         ("GlobalAveragePooling1D", {}), ("LSTM", {"units": 2})])
def test_integer_inputs_give_keras_numbers(name, kwargs):
    x = np.random.default_rng(1).integers(0, 5, (2, 4, 3)).astype("int32")
    ref, ours = getattr(keras_ref.layers, name)(**kwargs), getattr(cornu.layers, name)(**kwargs)
    ref(x)
    ours(torch.as_tensor(x))
    ours.set_weights(ref.get_weights())
    np.testing.assert_allclose(_np(ours(torch.as_tensor(x))), _np(ref(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "float64"])
@pytest.mark.parametrize("name,kwargs", [("Flatten", {}), ("Reshape", {"target_shape": (-1,)})])
def test_moving_layers_symbolic_dtype_under_policies(policy, name, kwargs):
    out = [str(getattr(lib.layers, name)(dtype=policy, **kwargs)(lib.Input((3, 4))).dtype)
           for lib in (keras_ref, cornu)]
    assert out[1] == out[0]


@pytest.mark.parametrize("inner,shape", [("Dense", (2, 4)), ("Conv2D", (1, 4, 4, 3)), ("Embedding", None)])
@pytest.mark.parametrize("iterations", [1, 2])
def test_spectral_normalization_matches_keras(inner, shape, iterations):
    def make(lib):
        layer = {"Dense": lambda: lib.layers.Dense(3, name="d"), "Conv2D": lambda: lib.layers.Conv2D(2, 2, name="d"),
                 "Embedding": lambda: lib.layers.Embedding(5, 3, name="d")}[inner]()
        return lib.layers.SpectralNormalization(layer, power_iterations=iterations, name="sn")
    x = np.random.default_rng(0).standard_normal(shape).astype("float32") if shape else np.array([[1, 2, 4]])
    ref, ours = make(keras_ref), make(cornu)
    assert ours.get_config() == ref.get_config()
    ref(x)
    ours(torch.as_tensor(x))
    assert [(w.path, w.trainable) for w in ours.weights] == [(w.path, w.trainable) for w in ref.weights]
    assert ours.get_config() == ref.get_config()
    ours.set_weights(ref.get_weights())
    for training in (False, True, True):
        out = ours(torch.as_tensor(x), training=training)
        expected = ref(x, training=training)
        if inner != "Embedding":  # Keras casts the output to the int input's dtype (zeros): weights compared only
            np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_spectral_normalization_fit_and_files_across_libraries(tmp_path):
    def model(lib):
        return lib.Sequential([lib.Input((4,)), lib.layers.SpectralNormalization(lib.layers.Dense(3, name="d"),
                                                                                 name="sn"),
                               lib.layers.Dense(2, name="o")], name="m")
    x = np.random.default_rng(0).standard_normal((4, 4)).astype("float32")
    y = np.ones((4, 2), "float32")
    ref, ours = model(keras_ref), model(cornu)
    ours.set_weights(ref.get_weights())
    for m, lib in ((ref, keras_ref), (ours, cornu)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    h_ref = ref.fit(x, y, epochs=3, batch_size=2, verbose=0, shuffle=False).history["loss"]
    h_ours = ours.fit(x, y, epochs=3, batch_size=2, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(h_ours, h_ref, rtol=1e-4)
    ref.save(tmp_path / "k.keras")
    loaded = cornu.saving.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "c.keras")
    back = keras_ref.saving.load_model(tmp_path / "c.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_wrapper_base_class_like_keras():
    for lib in (keras_ref, cornu):
        layer = lib.layers.Wrapper(lib.layers.Dense(3, name="d"), name="w")
        layer.build((None, 4))
        assert layer.layer.built and [w.path for w in layer.weights] == ["w/d/kernel", "w/d/bias"]
        assert isinstance(lib.layers.TimeDistributed(lib.layers.Dense(2)), lib.layers.Wrapper)
        assert not isinstance(lib.layers.Bidirectional(lib.layers.LSTM(2)), lib.layers.Wrapper)
        with pytest.raises(ValueError):
            lib.layers.Wrapper("dense")
    assert cornu.layers.Wrapper(cornu.layers.Dense(3, name="d"), name="w").get_config() == \
        keras_ref.layers.Wrapper(keras_ref.layers.Dense(3, name="d"), name="w").get_config()


LORA_CASES = [("Embedding", (6, 4), {"lora_rank": 2}, (2, 3)),
              ("Embedding", (6, 4), {"lora_rank": 2, "lora_alpha": 4.0}, (2, 3)),
              ("Embedding", (6, 4), {"lora_rank": 0}, (2, 3)), ("Conv1D", (4, 3), {"lora_rank": 2}, (2, 6, 3)),
              ("Conv2D", (4, 3), {"lora_rank": 2, "lora_alpha": 4.0, "strides": 2, "padding": "same"}, (2, 5, 5, 3)),
              ("Conv2D", (4, 3), {"lora_rank": 1, "data_format": "channels_first"}, (2, 3, 5, 5)),
              ("Conv3D", (2, 2), {"lora_rank": 1}, (1, 4, 4, 4, 2))]


@pytest.mark.parametrize("name,args,kwargs,shape", LORA_CASES)
def test_lora_layers_match_keras(name, args, kwargs, shape, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, shape) if name == "Embedding" else rng.standard_normal(shape).astype("float32")
    ref = getattr(keras_ref.layers, name)(*args, name="l", **kwargs)
    ours = getattr(cornu.layers, name)(*args, name="l", **kwargs)
    assert ours.get_config() == ref.get_config()
    ref(x)
    ours(torch.as_tensor(x))
    assert ours.get_config() == ref.get_config()
    assert [(w.path, w.trainable) for w in ours.weights] == [(w.path, w.trainable) for w in ref.weights]
    weights = [(rng.standard_normal(w.shape) * 0.3).astype("float32") for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_allclose(_np(ours(torch.as_tensor(x))), _np(ref(x)), rtol=1e-5, atol=1e-5)
    dtype = "int32" if name == "Embedding" else "float32"
    model_ref = keras_ref.Sequential([keras_ref.Input(shape[1:], dtype=dtype), ref])
    model_ours = cornu.Sequential([cornu.Input(shape[1:], dtype=dtype), ours])
    model_ref.save_weights(tmp_path / "k.weights.h5")  # Keras writes the LoRA-merged kernel
    fresh = cornu.Sequential([cornu.Input(shape[1:], dtype=dtype),
                              getattr(cornu.layers, name)(*args, name="l", **kwargs)])
    fresh.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(_np(fresh(torch.as_tensor(x))), _np(ref(x)), rtol=1e-5, atol=1e-5)
    model_ours.save_weights(tmp_path / "c.weights.h5")
    model_ref.load_weights(tmp_path / "c.weights.h5")
    np.testing.assert_allclose(_np(ref(x)), _np(ours(torch.as_tensor(x))), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"])
def test_lora_rank_refused_where_keras_refuses_it(name):
    args = (3,) if name == "DepthwiseConv2D" else (2, 3)
    for lib in (keras_ref, cornu):
        with pytest.raises(ValueError):
            getattr(lib.layers, name)(*args, lora_rank=2)


@pytest.mark.parametrize("kwargs", [{}, {"tie_weights": False}, {"logit_soft_cap": 2.0}, {"reverse_dtype": "float16"},
                                    {"lora_rank": 2}, {"mask_zero": True}])
def test_reversible_embedding_matches_keras(kwargs, tmp_path):
    x = np.array([[1, 0, 5], [2, 3, 4]])
    h = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    ref = keras_ref.layers.ReversibleEmbedding(6, 4, name="r", **kwargs)
    ours = cornu.layers.ReversibleEmbedding(6, 4, name="r", **kwargs)
    assert ours.get_config() == ref.get_config()
    ref(x)
    ours(torch.as_tensor(x))
    assert [(w.path, w.trainable) for w in ours.weights] == [(w.path, w.trainable) for w in ref.weights]
    weights = [np.random.default_rng(i).standard_normal(w.shape).astype("float32") for i, w in enumerate(
        ref.get_weights())]
    ref.set_weights(weights)
    ours.set_weights(weights)
    tol = 1e-2 if "reverse_dtype" in kwargs else 1e-5
    out, expected = ours(torch.as_tensor(h), reverse=True), ref(h, reverse=True)
    assert str(out.dtype) == str(expected.dtype)
    np.testing.assert_allclose(_np(out.float()), _np(expected).astype("float32"), rtol=tol, atol=tol)
    forward = ours(torch.as_tensor(x))
    np.testing.assert_allclose(_np(forward), _np(ref(x)), rtol=1e-6)
    if kwargs.get("mask_zero"):
        np.testing.assert_array_equal(_np(forward._keras_mask), x != 0)
    symbolic = ours(cornu.Input((3, 4)), reverse=True)
    assert tuple(symbolic.shape) == tuple(ref(keras_ref.Input((3, 4)), reverse=True).shape)
    model_ref = keras_ref.Sequential([keras_ref.Input((3,), dtype="int32"), ref])
    model_ref.save_weights(tmp_path / "k.weights.h5")
    fresh = cornu.layers.ReversibleEmbedding(6, 4, name="r", **kwargs)
    cornu.Sequential([cornu.Input((3,), dtype="int32"), fresh]).load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(_np(fresh(torch.as_tensor(h), reverse=True).float()),
                               _np(ref(h, reverse=True)).astype("float32"), rtol=tol, atol=tol)


@pytest.mark.parametrize("training", [True, False])
def test_time_distributed_batch_normalization_per_step_like_keras(training):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    ref = keras_ref.layers.TimeDistributed(keras_ref.layers.BatchNormalization(momentum=0.5))
    ours = cornu.layers.TimeDistributed(cornu.layers.BatchNormalization(momentum=0.5))
    np.testing.assert_allclose(_np(ours(torch.as_tensor(x), training=training)), _np(ref(x, training=training)),
                               rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


AXIS_ERRORS = [
    ("BatchNormalization", {"axis": -5}, [(2, 3)]), ("LayerNormalization", {"axis": [1, 5]}, [(2, 3, 4)]),
    ("GroupNormalization", {"groups": 1, "axis": 5}, [(2, 3)]), ("RMSNormalization", {"axis": 5}, [(2, 3)]),
    ("Concatenate", {"axis": -4}, [(2, 3), (2, 3)]), ("Dot", {"axes": (1, 3)}, [(2, 3), (2, 3)]),
    ("Dot", {"axes": 2}, [(2, 3), (2, 3)]), ("PReLU", {"shared_axes": [5]}, [(2, 3)])]


@pytest.mark.parametrize("name,kwargs,shapes", AXIS_ERRORS, ids=[f"{c[0]}-{c[1]}" for c in AXIS_ERRORS])
def test_out_of_range_axes_raise_what_keras_raises(name, kwargs, shapes):
    arrays = [np.ones(s, "float32") for s in shapes]
    with pytest.raises(Exception) as ref_error:
        getattr(keras_ref.layers, name)(**kwargs)(arrays if len(arrays) > 1 else arrays[0])
    with pytest.raises(type(ref_error.value)):  # an AxisError: Keras's IndexError and a ValueError at once
        getattr(cornu.layers, name)(**kwargs)([torch.as_tensor(a) for a in arrays] if len(arrays) > 1
                                              else torch.as_tensor(arrays[0]))


@pytest.mark.parametrize("name,kwargs", [("Dropout", {"rate": "a"}), ("Dropout", {"rate": None}),
                                         ("GaussianNoise", {"stddev": "a"}), ("GaussianDropout", {"rate": "a"}),
                                         ("AlphaDropout", {"rate": None}), ("SpatialDropout1D", {"rate": "a"}),
                                         ("GaussianNoise", {"stddev": 2.0})])
def test_non_numeric_rates_raise_type_error_like_keras(name, kwargs):
    with pytest.raises(Exception) as ref_error:
        getattr(keras_ref.layers, name)(**kwargs)
    with pytest.raises(type(ref_error.value)):
        getattr(cornu.layers, name)(**kwargs)


@pytest.mark.parametrize("name,make_x", [("Softmax", lambda: np.random.default_rng(0).standard_normal((2, 3))),
                                         ("GlobalAveragePooling1D",
                                          lambda: np.random.default_rng(0).standard_normal((2, 3, 4)))])
def test_numpy_masks_passed_to_call(name, make_x):
    x = make_x().astype("float32")
    mask = np.array([[1, 0, 1], [1, 1, 0]], bool)
    np.testing.assert_allclose(_np(getattr(cornu.layers, name)()(x, mask=mask)),
                               _np(getattr(keras_ref.layers, name)()(x, mask=mask)), rtol=1e-6)


BUILT_AT_INIT = [("Dropout", (0.2,), (2, 3)), ("Activation", ("relu",), (2, 3)), ("ReLU", (), (2, 3)),
                 ("Softmax", (), (2, 3)), ("MaxPooling1D", (), (2, 4, 3)), ("AveragePooling2D", (2,), (2, 4, 4, 3)),
                 ("GlobalAveragePooling2D", (), (2, 4, 4, 3)), ("Reshape", ((3, 1),), (2, 3)),
                 ("Identity", (), (2, 3)), ("GaussianNoise", (0.1,), (2, 3)), ("Masking", (), (2, 4, 3)),
                 ("UnitNormalization", (), (2, 3)), ("SpatialDropout1D", (0.1,), (2, 4, 3)),
                 ("PReLU", (), (2, 3)), ("Dense", (2,), (2, 3)), ("Flatten", (), (2, 3, 2))]


@pytest.mark.parametrize("name,args,shape", BUILT_AT_INIT, ids=[c[0] for c in BUILT_AT_INIT])
def test_build_config_and_masking_flags_like_keras(name, args, shape):
    x = np.random.default_rng(0).random(shape).astype("float32")
    ref, ours = getattr(keras_ref.layers, name)(*args), getattr(cornu.layers, name)(*args)
    assert ours.built == ref.built
    ref(x)
    ours(torch.as_tensor(x))
    assert ours.get_build_config() == ref.get_build_config()
    assert ours.supports_masking == ref.supports_masking
    clone = getattr(cornu.layers, name).from_config(ours.get_config())
    clone.build_from_config(ref.get_build_config())
    assert [w.shape for w in clone.weights] == [tuple(w.shape) for w in ref.weights] and clone.built


@pytest.mark.parametrize("name", ["GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling3D",
                                  "RMSNormalization", "Identity", "GlobalAveragePooling1D"])
def test_supports_masking_flags_like_keras(name):
    assert getattr(cornu.layers, name)().supports_masking == getattr(keras_ref.layers, name)().supports_masking


@pytest.mark.parametrize("name,args", [("Dense", (2,)), ("Reshape", ((3,),)), ("MaxPooling1D", (1,)),
                                       ("Dropout", (0.5,))])
def test_mask_argument_to_a_layer_without_one_is_a_type_error(name, args):
    x = np.ones((2, 3, 1), "float32") if name == "MaxPooling1D" else np.ones((2, 3), "float32")
    for lib in (keras_ref, cornu):
        for mask in (None, np.ones((2, 3), bool)):
            with pytest.raises(TypeError):
                getattr(lib.layers, name)(*args)(x, mask=mask)
    assert cornu.layers.LSTM(2)(np.ones((2, 3, 1), "float32"), mask=None).shape == (2, 2)


@pytest.mark.parametrize("name,kwargs", [("BatchNormalization", {"axis": "a"}), ("BatchNormalization", {"axis": [1]}),
                                         ("BatchNormalization", {"axis": None}), ("Reshape", {"target_shape": 5}),
                                         ("Reshape", {"target_shape": None})])
def test_argument_error_classes_like_keras(name, kwargs):
    with pytest.raises(Exception) as ref_error:
        getattr(keras_ref.layers, name)(**kwargs)
    with pytest.raises(type(ref_error.value)):
        getattr(cornu.layers, name)(**kwargs)


@pytest.mark.parametrize("axis", [1.5, "1", True])
def test_batch_normalization_takes_int_of_axis_like_keras(axis):
    assert cornu.layers.BatchNormalization(axis=axis, name="b").get_config() == \
        keras_ref.layers.BatchNormalization(axis=axis, name="b").get_config()
