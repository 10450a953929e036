"""Image preprocessing layers against Keras 3.15 (torch backend): outputs, configs, error classes."""
import numpy as np
import pytest

from cornu.layers.preprocessing.image.center_crop import CenterCrop
from cornu.layers.preprocessing.image import random_affine
from cornu.layers.preprocessing.image.random_color import RandomBrightness, RandomContrast
from cornu.layers.preprocessing.image.random_crop import RandomCrop
from cornu.layers.preprocessing.image.random_flip import RandomFlip
from cornu.layers.preprocessing.image.resizing import Resizing
from cornu.ops import image as image_ops
from tests.helpers import assert_close, f64, random_array

_RESIZE_OPTIONS = [{}, {"interpolation": "nearest"}, {"interpolation": "bicubic"}, {"antialias": True},
                   {"interpolation": "bicubic", "antialias": True}, {"crop_to_aspect_ratio": True},
                   {"pad_to_aspect_ratio": True, "fill_value": 2.0},
                   {"interpolation": "nearest", "pad_to_aspect_ratio": True}]


@pytest.mark.parametrize("options", _RESIZE_OPTIONS)
def test_resizing_matches_keras(keras_ref, options):
    for shape, size in [((2, 7, 10, 3), (4, 4)), ((2, 7, 10, 3), (9, 13)), ((10, 7, 2), (5, 8)),
                        ((2, 5, 9, 1), (8, 9))]:
        x = random_array(shape)
        ours, theirs = Resizing(*size, **options), keras_ref.layers.Resizing(*size, **options)
        assert_close(ours(x), keras_ref.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
        assert ours.get_config() | {"name": None} == theirs.get_config() | {"name": None}


def test_resize_op_channels_first_and_integers_match_keras(keras_ref):
    x = random_array((2, 3, 7, 10))
    ours = image_ops.resize(x, (5, 6), data_format="channels_first")
    assert_close(ours, keras_ref.ops.convert_to_numpy(
        keras_ref.ops.image.resize(x, (5, 6), data_format="channels_first")))
    xi = (random_array((1, 6, 6, 2), low=0, high=200)).astype("uint8")
    ours = image_ops.resize(xi, (4, 5))
    theirs = keras_ref.ops.convert_to_numpy(keras_ref.ops.image.resize(xi, (4, 5)))
    assert str(ours.dtype) == f"torch.{theirs.dtype}"
    np.testing.assert_array_equal(f64(ours), theirs)


@pytest.mark.parametrize("shape,size", [((2, 7, 10, 3), (3, 4)), ((6, 9, 2), (3, 4)), ((2, 4, 5, 1), (6, 6)),
                                        ((2, 4, 10, 1), (6, 3))])
def test_center_crop_matches_keras(keras_ref, shape, size):
    x = random_array(shape)
    ours, theirs = CenterCrop(*size), keras_ref.layers.CenterCrop(*size)
    assert_close(ours(x), keras_ref.ops.convert_to_numpy(theirs(x)))
    assert ours.get_config() | {"name": None} == theirs.get_config() | {"name": None}


@pytest.mark.parametrize("options", [{"interpolation": "area"}, {"interpolation": "lanczos5"},
                                     {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
                                     {"fill_mode": "reflect"}])
def test_resizing_errors_match_keras(keras_ref, options):
    x = random_array((1, 4, 4, 1))
    with pytest.raises(Exception) as theirs:
        keras_ref.layers.Resizing(2, 2, **options)(x)
    with pytest.raises(Exception) as ours:
        Resizing(2, 2, **options)(x)
    assert isinstance(ours.value, type(theirs.value))


def _configs_equal(ours, theirs) -> None:
    assert ours.get_config() | {"name": None} == theirs.get_config() | {"name": None}


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_inference_and_config_match_keras(keras_ref, mode):
    x = random_array((3, 4, 5, 2))
    ours, theirs = RandomFlip(mode, seed=5), keras_ref.layers.RandomFlip(mode, seed=5)
    assert_close(ours(x, training=False), keras_ref.ops.convert_to_numpy(theirs(x, training=False)))
    xi = np.zeros((2, 3, 3, 1), "int32")
    assert str(ours(xi, training=False).dtype) == str(theirs(xi, training=False).dtype)
    _configs_equal(ours, theirs)
    with pytest.raises(Exception) as ref:
        theirs(np.zeros((3, 4), "float32"))
    with pytest.raises(type(ref.value)):
        ours(np.zeros((3, 4), "float32"))


_AFFINE_CASES = [("RandomRotation", ((0.125, 0.125),)), ("RandomRotation", ((-0.3, -0.3),)),
                 ("RandomZoom", ((0.5, 0.5),)), ("RandomZoom", ((0.4, 0.4), (-0.3, -0.3))),
                 ("RandomTranslation", ((0.3, 0.3), (-0.45, -0.45))), ("RandomTranslation", ((-0.7, -0.7), (0.9, 0.9)))]


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_layers_with_fixed_parameters_match_keras(keras_ref, fill_mode, interpolation):
    x = random_array((2, 6, 7, 3))
    kw = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=-1.0)
    for name, args in _AFFINE_CASES:
        ours, theirs = getattr(random_affine, name)(*args, **kw), getattr(keras_ref.layers, name)(*args, **kw)
        assert_close(ours(x, training=True), keras_ref.ops.convert_to_numpy(theirs(x, training=True)),
                     rtol=1e-5, atol=1e-5)
        assert_close(ours(x, training=False), keras_ref.ops.convert_to_numpy(theirs(x, training=False)))
        _configs_equal(ours, theirs)


@pytest.mark.parametrize("name,args", [("RandomRotation", (0.2,)), ("RandomRotation", ((0.3, 0.1),)),
                                       ("RandomZoom", ((0.5, 0.2),)), ("RandomZoom", (0.2, [0.1, 0.3])),
                                       ("RandomTranslation", (0.2, (0.1, -0.1)))])
def test_affine_configs_match_keras(keras_ref, name, args):
    _configs_equal(getattr(random_affine, name)(*args, seed=3, fill_mode="wrap"),
                   getattr(keras_ref.layers, name)(*args, seed=3, fill_mode="wrap"))


@pytest.mark.parametrize("name,args,kw", [("RandomRotation", (1.5,), {}), ("RandomRotation", ("a",), {}),
                                          ("RandomZoom", (-1.0,), {}), ("RandomZoom", (0.1, 1.5), {}),
                                          ("RandomTranslation", (1.5, 0.1), {}),
                                          ("RandomTranslation", (0.1, (0.2, 1.2)), {}),
                                          ("RandomRotation", (0.1,), {"fill_mode": "foo"}),
                                          ("RandomZoom", (0.1,), {"interpolation": "bicubic"})])
def test_affine_errors_match_keras(keras_ref, name, args, kw):
    with pytest.raises(Exception) as theirs:
        getattr(keras_ref.layers, name)(*args, **kw)
    with pytest.raises(type(theirs.value)):
        getattr(random_affine, name)(*args, **kw)


def test_random_crop_matches_keras_where_deterministic(keras_ref):
    x = random_array((2, 6, 7, 3))
    ours, theirs = RandomCrop(3, 4, seed=4), keras_ref.layers.RandomCrop(3, 4, seed=4)
    assert_close(ours(x, training=False), keras_ref.ops.convert_to_numpy(theirs(x, training=False)))
    assert tuple(ours(x).shape) == tuple(theirs(x, training=True).shape)
    _configs_equal(ours, theirs)
    small = random_array((2, 3, 4, 1))
    assert_close(RandomCrop(5, 6, seed=1)(small),
                 keras_ref.ops.convert_to_numpy(keras_ref.layers.RandomCrop(5, 6, seed=1)(small, training=True)))
    for dtype in ("int32", "uint8", "float64"):
        z = np.zeros((1, 6, 7, 1), dtype)
        for training in (True, False):
            assert str(ours(z, training=training).dtype) == str(theirs(z, training=training).dtype)


_COLOR_CASES = [("RandomContrast", ((-0.5, 0.5),), {}),
                ("RandomContrast", ((-0.3, 0.3),), {"value_range": (0, 100)}),
                ("RandomBrightness", ((0.3, 0.3),), {}),
                ("RandomBrightness", ((-0.2, -0.2),), {"value_range": (255, -1)})]


@pytest.mark.parametrize("name,args,kw", _COLOR_CASES)
def test_color_layers_with_fixed_factors_match_keras(keras_ref, name, args, kw):
    ours = {"RandomContrast": RandomContrast, "RandomBrightness": RandomBrightness}[name](*args, seed=2, **kw)
    theirs = getattr(keras_ref.layers, name)(*args, seed=2, **kw)
    for x in (random_array((2, 3, 4, 2), low=-20, high=280), random_array((3, 4, 2), low=0, high=255)):
        assert_close(ours(x), keras_ref.ops.convert_to_numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-4)
        assert_close(ours(x, training=False), keras_ref.ops.convert_to_numpy(theirs(x, training=False)))
    xi = np.array([[[[10], [20]], [[30], [250]]]], "int32")
    for training in (True, False):
        o, t = ours(xi, training=training), theirs(xi, training=training)
        assert str(o.dtype) == str(t.dtype)
        assert_close(o, keras_ref.ops.convert_to_numpy(t), atol=1e-4)
    _configs_equal(ours, theirs)


@pytest.mark.parametrize("name,factor", [("RandomContrast", 0.0), ("RandomContrast", 0.2),
                                         ("RandomContrast", (0.5, 0.2)), ("RandomContrast", (-1.5, 0.2)),
                                         ("RandomBrightness", -0.1),
                                         ("RandomBrightness", (0.3, -0.3)), ("RandomBrightness", [0.1, 0.2])])
def test_color_configs_match_keras(keras_ref, name, factor):
    ours = {"RandomContrast": RandomContrast, "RandomBrightness": RandomBrightness}[name](factor)
    _configs_equal(ours, getattr(keras_ref.layers, name)(factor))


@pytest.mark.parametrize("name,args,kw", [("RandomContrast", (1.5,), {}), ("RandomContrast", (-0.1,), {}),
                                          ("RandomContrast", ((0.3, -0.3),), {}), ("RandomContrast", ("a",), {}),
                                          ("RandomBrightness", ((1.2, 0.5),), {}), ("RandomBrightness", ((0.1,),), {}),
                                          ("RandomBrightness", (0.2,), {"value_range": (1,)})])
def test_color_errors_match_keras(keras_ref, name, args, kw):
    with pytest.raises(Exception) as theirs:
        getattr(keras_ref.layers, name)(*args, **kw)
    with pytest.raises(type(theirs.value)):
        {"RandomContrast": RandomContrast, "RandomBrightness": RandomBrightness}[name](*args, **kw)
