"""The convolution family against real Keras 3.15 (torch backend): transposed, depthwise, separable and
grouped convolutions, adaptive pooling and UpSampling2D interpolations.

Same weights in both; outputs (rtol 1e-5), eager and symbolic output shapes, weight shapes, configs and
the exception class on bad arguments must agree; a ``.weights.h5`` written by Keras loads into cornu.
"""
import itertools

import numpy as np
import pytest

from tests.helpers import keras_oracle_module, random_array

keras_ref = keras_oracle_module()

import cornu  # noqa: E402


def _canonical(value, ours=None):
    """A config value with cornu's known representation differences folded away.

    A serialized object (initializer, ...) is compared by class and by the config keys cornu writes
    (Keras 3.15 initializers add ``input_axes``/``output_axes``).
    """
    if isinstance(value, dict) and "class_name" in value:
        keys = (ours or {}).get("config", value.get("config", {})).keys()
        return value["class_name"], {k: value.get("config", {}).get(k) for k in keys}
    if isinstance(value, list):
        return tuple(value)
    return value


def assert_same_config(ours, ref):
    ours, ref = ours.get_config(), ref.get_config()
    assert set(ours) == set(ref)
    assert ours.pop("dtype") == ref.pop("dtype")
    for key, value in ref.items():
        assert _canonical(ours[key], ours[key]) == _canonical(value, ours[key]), key


def _pair(name, *args, **kwargs):
    """The same layer in cornu and Keras, Keras's (random) weights copied into cornu."""
    ref = getattr(keras_ref.layers, name)(*args, name="layer", **kwargs)
    ours = getattr(cornu.layers, name)(*args, name="layer", **kwargs)
    return ours, ref


def _check(ours, ref, x):
    ref.build(x.shape)
    ours.build(x.shape)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    assert [w.path for w in ours.weights] == [w.path for w in ref.weights]
    weights = [np.asarray(w) + random_array(w.shape, seed=i, low=-0.1, high=0.1)
               for i, w in enumerate(ref.get_weights())]
    ref.set_weights(weights)
    ours.set_weights(weights)
    y_ref = keras_ref.ops.convert_to_numpy(ref(x))
    y = ours(x).detach().cpu().numpy()
    assert y.shape == y_ref.shape and y.dtype == y_ref.dtype
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    first_spatial = 1 if ours.data_format == "channels_last" else 2
    symbolic = tuple(None if i in (0, first_spatial) else d for i, d in enumerate(x.shape))
    assert tuple(ours.compute_output_shape(symbolic)) == tuple(ref.compute_output_shape(symbolic))
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(ref.compute_output_shape(x.shape))
    assert_same_config(ours, ref)


def _input(rank, data_format, sizes, channels=3, seed=0):
    shape = (2, *sizes, channels) if data_format == "channels_last" else (2, channels, *sizes)
    return random_array(shape, seed=seed)


# --------------------------------------------------------------------------- transposed convolutions
_TRANSPOSE_GRID = [  # (kernel, strides, padding, dilation, output_padding)
    (k, s, p, d, op) for k, s, p, d, op in itertools.product((1, 2, 3, 4), (1, 2, 3), ("valid", "same"), (1, 2),
                                                             (None, 0, 1, 2))
    if (op is None or op < s) and not (s > 1 and d > 1)]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_transpose_grid(data_format):
    for i, (k, s, p, d, op) in enumerate(_TRANSPOSE_GRID):
        ours, ref = _pair("Conv1DTranspose", 2, k, strides=s, padding=p, dilation_rate=d, output_padding=op,
                          data_format=data_format)
        _check(ours, ref, _input(1, data_format, (5,), seed=i))


@pytest.mark.parametrize("kernel,strides,padding,dilation,output_padding,data_format", [
    ((3, 2), (2, 1), "same", 1, None, "channels_last"),
    ((3, 4), (2, 3), "same", 1, (1, 2), "channels_last"),
    ((2, 3), (3, 2), "valid", 1, (2, 0), "channels_first"),
    (3, 1, "same", (2, 1), None, "channels_first"),
    (4, 2, "valid", 1, None, "channels_last"),
    (5, 1, "same", 2, 0, "channels_last"),
])
def test_conv2d_transpose(kernel, strides, padding, dilation, output_padding, data_format):
    ours, ref = _pair("Conv2DTranspose", 4, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                      output_padding=output_padding, data_format=data_format, activation="relu")
    _check(ours, ref, _input(2, data_format, (5, 4)))


@pytest.mark.parametrize("kernel,strides,padding,output_padding,data_format", [
    (3, 2, "same", None, "channels_last"),
    ((2, 3, 1), (1, 2, 3), "valid", (0, 1, 2), "channels_first"),
    (2, (2, 1, 2), "same", (1, 0, 0), "channels_last"),
])
def test_conv3d_transpose(kernel, strides, padding, output_padding, data_format):
    ours, ref = _pair("Conv3DTranspose", 2, kernel, strides=strides, padding=padding,
                      output_padding=output_padding, data_format=data_format)
    _check(ours, ref, _input(3, data_format, (3, 4, 2), channels=2))


# --------------------------------------------------------------------------- depthwise and separable
@pytest.mark.parametrize("name", ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_and_separable_grid(name, data_format):
    rank = int(name[-2])
    args = (4,) if name.startswith("Separable") else ()
    grid = itertools.product((1, 3), (1, 2), ("valid", "same"), (1, 2), (1, 2))
    for i, (k, s, p, d, dm) in enumerate(grid):
        ours, ref = _pair(name, *args, k, strides=s, padding=p, dilation_rate=d, depth_multiplier=dm,
                          data_format=data_format)
        _check(ours, ref, _input(rank, data_format, (7,) * rank, seed=i))


def test_depthwise_and_separable_mixed_axes():
    ours, ref = _pair("SeparableConv2D", 5, (3, 2), strides=(2, 1), padding="same", depth_multiplier=3,
                      activation="tanh", use_bias=False)
    _check(ours, ref, _input(2, "channels_last", (6, 5)))
    ours, ref = _pair("DepthwiseConv2D", (2, 3), dilation_rate=(1, 2), padding="same", depth_multiplier=2)
    _check(ours, ref, _input(2, "channels_last", (6, 7)))


# --------------------------------------------------------------------------- grouped plain convolutions
@pytest.mark.parametrize("name,sizes,groups,filters,padding", [
    ("Conv1D", (7,), 3, 6, "causal"),
    ("Conv2D", (6, 5), 2, 4, "same"),
    ("Conv2D", (6, 5), 6, 6, "valid"),
    ("Conv3D", (4, 3, 4), 3, 3, "same"),
])
def test_grouped_convolutions(name, sizes, groups, filters, padding):
    ours, ref = _pair(name, filters, 2, groups=groups, padding=padding)
    _check(ours, ref, _input(len(sizes), "channels_last", sizes, channels=6))


# --------------------------------------------------------------------------- adaptive pooling
@pytest.mark.parametrize("mode", ["Average", "Max"])
@pytest.mark.parametrize("sizes,output_size,data_format", [
    ((7,), 3, "channels_last"), ((5,), (7,), "channels_first"),
    ((7, 5), (3, 2), "channels_last"), ((4, 9), 4, "channels_first"),
    ((3, 4, 5), (2, 3, 2), "channels_last"), ((5, 3, 2), 2, "channels_first"),
])
def test_adaptive_pooling(mode, sizes, output_size, data_format):
    ours, ref = _pair(f"Adaptive{mode}Pooling{len(sizes)}D", output_size, data_format=data_format)
    _check(ours, ref, _input(len(sizes), data_format, sizes))


# --------------------------------------------------------------------------- UpSampling2D
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "BICUBIC"])
@pytest.mark.parametrize("size,data_format", [((2, 2), "channels_last"), ((3, 1), "channels_first"),
                                              ((1, 4), "channels_last")])
def test_upsampling2d_interpolations(interpolation, size, data_format):
    ours, ref = _pair("UpSampling2D", size, data_format=data_format, interpolation=interpolation)
    _check(ours, ref, _input(2, data_format, (4, 5)))


def test_upsampling2d_lanczos_config_matches_keras():
    # Keras computes Lanczos only on its JAX/TensorFlow backends (its torch backend raises at call);
    # cornu's numbers follow those backends, tested against the formula in tests/layers/test_upsampling.py.
    for interpolation in ("lanczos3", "lanczos5"):
        ours, ref = _pair("UpSampling2D", (2, 3), interpolation=interpolation)
        assert_same_config(ours, ref)
        assert tuple(ours.compute_output_shape((None, 4, 5, 2))) == tuple(ref.compute_output_shape((None, 4, 5, 2)))


# --------------------------------------------------------------------------- aliases and symbolic shapes
def test_aliases_match_keras():
    for alias in ("Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
                  "SeparableConvolution1D", "SeparableConvolution2D"):
        assert getattr(cornu.layers, alias).__name__ == getattr(keras_ref.layers, alias).__name__


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv2DTranspose", (3, 3), {"strides": 2, "padding": "same"}, (None, 4, 3)),
    ("Conv1DTranspose", (3, 4), {"strides": 3, "output_padding": 1}, (None, 2)),
    ("Conv3DTranspose", (2, 2), {"strides": (1, 2, 3)}, (3, None, 2, 2)),
    ("SeparableConv1D", (3, 3), {"strides": 2, "padding": "same"}, (None, 2)),
    ("DepthwiseConv2D", (3,), {"depth_multiplier": 2}, (None, 6, 3)),
    ("AdaptiveMaxPooling2D", ((2, 3),), {}, (None, None, 3)),
    ("UpSampling2D", (2,), {"interpolation": "bicubic"}, (None, 5, 3)),
])
def test_symbolic_output_shapes(name, args, kwargs, shape):
    ours = getattr(cornu.layers, name)(*args, **kwargs)(cornu.Input(shape))
    ref = getattr(keras_ref.layers, name)(*args, **kwargs)(keras_ref.Input(shape))
    assert tuple(ours.shape) == tuple(ref.shape)


@pytest.mark.parametrize("name,args", [
    ("Conv1DTranspose", (2, 3, 2, "same", 1, "channels_first", 1, "relu")),
    ("Conv2DTranspose", (2, 3, 2, "valid", (1, 0), "channels_last", 1, "tanh", False)),
    ("Conv3DTranspose", (2, 3, 2, "same", "channels_first", 1)),
    ("SeparableConv1D", (4, 3, 1, "same", "channels_last", 2, 3, "relu", False)),
    ("SeparableConv2D", (4, 3, 2, "valid", "channels_first", 1, 2)),
    ("DepthwiseConv1D", (3, 2, "same", 2, "channels_first", 1, "relu")),
    ("DepthwiseConv2D", (3, 1, "same", 2, "channels_last", 2, "relu", False)),
    ("AdaptiveMaxPooling3D", ((1, 2, 3), "channels_first")),
])
def test_positional_arguments_mean_what_they_mean_in_keras(name, args):
    ours, ref = _pair(name, *args)
    assert_same_config(ours, ref)


# --------------------------------------------------------------------------- errors
_BAD = [
    ("Conv1DTranspose", (2, 3), {"strides": 2, "output_padding": 2}),
    ("Conv1DTranspose", (2, 3), {"output_padding": 1}),
    ("Conv2DTranspose", (2, 3), {"strides": 2, "dilation_rate": 2}),
    ("Conv2DTranspose", (2, 3), {"padding": "causal"}),
    ("Conv1DTranspose", (2, 3), {"padding": "causal"}),
    ("Conv2DTranspose", (0, 3), {}),
    ("Conv2DTranspose", (2, 0), {}),
    ("Conv2DTranspose", (2, (3, 3, 3)), {}),
    ("Conv2DTranspose", (2, 3), {"strides": 0}),
    ("Conv2DTranspose", (2, 3), {"padding": "full"}),
    ("Conv2DTranspose", (2, 3), {"data_format": "nhwc"}),
    ("Conv2DTranspose", (2, 3), {"strides": 2, "output_padding": -1}),
    ("Conv3DTranspose", (2, 3), {"dilation_rate": 0}),
    ("SeparableConv2D", (4, 3), {"depth_multiplier": 0}),
    ("SeparableConv2D", (0, 3), {}),
    ("SeparableConv1D", (2, 3), {"padding": "causal"}),
    ("DepthwiseConv1D", (3,), {"padding": "causal"}),
    ("DepthwiseConv2D", (3,), {"depth_multiplier": 0}),
    ("DepthwiseConv2D", (3,), {"kernel_size": 3}),
    ("Conv2D", (4, 3), {"groups": 3}),
    ("Conv2D", (4, 3), {"groups": 0}),
    ("Conv2D", (4, 3), {"groups": -1}),
    ("Conv2D", (4, 3), {"strides": 2, "dilation_rate": 2}),
    ("Conv2D", (4, 3), {"padding": "causal"}),
    ("AdaptiveAveragePooling2D", ((2, 2, 2),), {}),
    ("AdaptiveAveragePooling2D", (2.5,), {}),
    ("AdaptiveAveragePooling2D", (None,), {}),
    ("AdaptiveMaxPooling1D", ((2, 3),), {}),
    ("AdaptiveMaxPooling1D", (2.5,), {}),
    ("AdaptiveMaxPooling3D", ((2, 2),), {}),
    ("AdaptiveMaxPooling2D", (3,), {"data_format": "x"}),
    ("UpSampling2D", (0,), {}),
    ("UpSampling2D", ((1, 2, 3),), {}),
]


@pytest.mark.parametrize("name,args,kwargs", _BAD)
def test_bad_arguments_raise_what_keras_raises(name, args, kwargs):
    with pytest.raises(Exception) as ref_error:
        getattr(keras_ref.layers, name)(*args, **kwargs)
    with pytest.raises(ref_error.type):
        getattr(cornu.layers, name)(*args, **kwargs)


@pytest.mark.parametrize("name,args,shape", [
    ("Conv2DTranspose", (2, 3), (1, 5, 2)),
    ("SeparableConv2D", (2, 7), (1, 5, 5, 2)),
    ("DepthwiseConv2D", (7,), (1, 5, 5, 2)),
    ("Conv2D", (4, 3), (1, 5, 5, 3)),
    ("AdaptiveMaxPooling2D", (3,), (1, 7, 7)),
])
def test_bad_inputs_raise_what_keras_raises(name, args, shape):
    kwargs = {"groups": 2} if name == "Conv2D" else {}
    x = np.zeros(shape, "float32")
    with pytest.raises(Exception) as ref_error:
        getattr(keras_ref.layers, name)(*args, **kwargs)(x)
    with pytest.raises(ref_error.type):
        getattr(cornu.layers, name)(*args, **kwargs)(x)


# --------------------------------------------------------------------------- weights files
def _model(lib):
    layers = lib.layers
    return lib.Sequential([
        lib.Input((6, 6, 3)),
        layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
        layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.SeparableConv2D(6, 3, padding="same", depth_multiplier=2),
        layers.AdaptiveAveragePooling2D((4, 4)),
        layers.UpSampling2D(interpolation="bicubic"),
        layers.AdaptiveMaxPooling2D(3),
        layers.Conv2D(4, 2, groups=2),
        layers.Reshape((4, 4)),
        layers.Conv1DTranspose(3, 2, strides=2, output_padding=1),
        layers.SeparableConv1D(2, 3),
        layers.DepthwiseConv1D(2, padding="same"),
        layers.Flatten(),
    ])


def test_keras_weights_file_loads_into_cornu(tmp_path):
    ref, ours = _model(keras_ref), _model(cornu)
    path = str(tmp_path / "conv.weights.h5")
    ref.save_weights(path)
    ours.load_weights(path)
    x = random_array((3, 6, 6, 3), seed=5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    back = str(tmp_path / "back.weights.h5")
    ours.save_weights(back)
    ref2 = _model(keras_ref)
    ref2.load_weights(back)
    np.testing.assert_allclose(ref2.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
