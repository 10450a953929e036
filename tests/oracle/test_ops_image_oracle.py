"""``keras.ops.image`` against Keras 3.15.1: the same inputs give the same values, shapes, dtypes and errors."""
import numpy as np
import pytest

from cornu.ops import image
from tests.helpers import assert_close, random_array

FORMATS = ["channels_last", "channels_first"]


def _pair(keras_ref, name, *args, **kwargs):
    ours = getattr(image, name)(*args, **kwargs)
    theirs = getattr(keras_ref.ops.image, name)(*args, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    assert_close(ours, np.asarray(theirs), rtol=1e-5, atol=1e-5)
    return ours


def _images(data_format, shape=(2, 5, 6, 3), seed=0, low=0.0, high=1.0):
    x = random_array(shape, seed=seed, low=low, high=high)
    return x if data_format == "channels_last" else np.moveaxis(x, -1, -3).copy()


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("name", ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb"])
def test_colour_conversions(keras_ref, name, data_format):
    x = _images(data_format)
    _pair(keras_ref, name, x, data_format=data_format)
    _pair(keras_ref, name, x[0], data_format=data_format)


def test_grayscale_integer_dtype_and_one_channel(keras_ref):
    _pair(keras_ref, "rgb_to_grayscale", np.arange(36, dtype="int32").reshape(2, 2, 3, 3))
    _pair(keras_ref, "rgb_to_grayscale", random_array((2, 3, 4, 1)))
    with pytest.raises(ValueError):
        keras_ref.ops.image.rgb_to_grayscale(random_array((2, 3, 4, 4)))
    with pytest.raises(ValueError):
        image.rgb_to_grayscale(random_array((2, 3, 4, 4)))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("kernel_size,sigma", [((3, 3), (1.0, 2.0)), ((5, 5), (0.5, 1.5))])
def test_gaussian_blur(keras_ref, data_format, kernel_size, sigma):
    # Keras's torch backend needs an explicit data_format (None is not resolved) and a 4-D batch here.
    _pair(keras_ref, "gaussian_blur", _images(data_format), kernel_size, sigma, data_format=data_format)


@pytest.mark.parametrize("name", ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb"])
def test_colour_errors(keras_ref, name):
    for bad in (np.ones((3,), "float32"), np.ones((2, 2, 2, 2, 3), "float32")):
        with pytest.raises(ValueError):
            getattr(keras_ref.ops.image, name)(bad)
        with pytest.raises(ValueError):
            getattr(image, name)(bad)


@pytest.mark.parametrize("name", ["rgb_to_hsv", "hsv_to_rgb"])
def test_hsv_integer_error(keras_ref, name):
    x = np.ones((2, 2, 3), "int32")
    with pytest.raises(ValueError):
        getattr(keras_ref.ops.image, name)(x)
    with pytest.raises(ValueError):
        getattr(image, name)(x)


TRANSFORMS = np.array([[0.9, 0.2, -1.3, -0.1, 1.1, 0.7, 0, 0], [1.2, -0.3, 2.3, 0.2, 0.8, -3.1, 0, 0]], "float32")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_affine_transform(keras_ref, data_format, interpolation, fill_mode):
    x = _images(data_format)
    _pair(keras_ref, "affine_transform", x, TRANSFORMS, interpolation, fill_mode, 0.3, data_format=data_format)
    _pair(keras_ref, "affine_transform", x[0], TRANSFORMS[1], interpolation, fill_mode, 0.3,
          data_format=data_format)


def test_affine_transform_integer(keras_ref):
    x = (_images("channels_last") * 255).astype("uint8")
    _pair(keras_ref, "affine_transform", x, TRANSFORMS, data_format="channels_last")


@pytest.mark.parametrize("kwargs", [{"interpolation": "bicubic"}, {"fill_mode": "foo"}])
def test_affine_transform_errors(keras_ref, kwargs):
    x = _images("channels_last")
    for fn in (image.affine_transform, keras_ref.ops.image.affine_transform):
        with pytest.raises(ValueError):
            fn(x, TRANSFORMS, **kwargs)
        with pytest.raises(ValueError):
            fn(x, TRANSFORMS[None])


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates(keras_ref, fill_mode, order):
    v = random_array((4, 5, 6))
    coords = random_array((3, 7, 2), seed=1, low=-3, high=9)
    _pair(keras_ref, "map_coordinates", v, coords, order, fill_mode, 0.5)
    _pair(keras_ref, "map_coordinates", (v * 10).astype("int32"), coords, order, fill_mode, 0)


def test_map_coordinates_errors(keras_ref):
    v = np.ones(6, "float32")
    for fn in (image.map_coordinates, keras_ref.ops.image.map_coordinates):
        with pytest.raises(ValueError):
            fn(v, np.zeros((2, 3), "float32"), 1)
        with pytest.raises(NotImplementedError):
            fn(v, np.zeros((1, 3), "float32"), 2)
        with pytest.raises(ValueError):
            fn(v, np.zeros((1, 3), "float32"), 1, fill_mode="foo")


@pytest.mark.parametrize("data_format", FORMATS)
def test_crop_and_pad(keras_ref, data_format):
    x = _images(data_format)
    _pair(keras_ref, "crop_images", x, 1, 2, target_height=3, target_width=2, data_format=data_format)
    _pair(keras_ref, "crop_images", x[0], None, None, 1, 2, 2, 3, data_format=data_format)
    _pair(keras_ref, "pad_images", x, 1, 2, target_height=8, target_width=9, data_format=data_format)
    _pair(keras_ref, "pad_images", x[0], 1, 2, 3, 0, data_format=data_format)


@pytest.mark.parametrize("name,args", [("crop_images", (1, 2)), ("pad_images", (1, 2)),
                                       ("crop_images", (-1, 2, None, None, 3, 2)),
                                       ("pad_images", (1, 1, None, None, 3, 9))])
def test_crop_and_pad_errors(keras_ref, name, args):
    x = _images("channels_last")
    with pytest.raises(ValueError):
        getattr(keras_ref.ops.image, name)(x, *args, data_format="channels_last")
    with pytest.raises(ValueError):
        getattr(image, name)(x, *args, data_format="channels_last")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("kwargs", [{"size": 2}, {"size": (2, 3), "strides": 1},
                                    {"size": (2, 3), "padding": "same"},
                                    {"size": (2, 3), "strides": (1, 2), "dilation_rate": 2, "padding": "same"}])
def test_extract_patches(keras_ref, data_format, kwargs):
    x = _images(data_format)
    _pair(keras_ref, "extract_patches", x, data_format=data_format, **kwargs)
    _pair(keras_ref, "extract_patches", x[0], data_format=data_format, **kwargs)


@pytest.mark.parametrize("kwargs", [{"size": 2}, {"size": (2, 2, 3), "strides": 1, "padding": "same"},
                                    {"size": 2, "dilation_rate": 2}])
def test_extract_patches_3d(keras_ref, kwargs):
    v = random_array((2, 4, 5, 6, 2))
    _pair(keras_ref, "extract_patches_3d", v, **kwargs)
    _pair(keras_ref, "extract_patches_3d", v[0], **kwargs)


@pytest.mark.parametrize("data_format", FORMATS)
def test_sobel_edges(keras_ref, data_format):
    # Keras's torch backend handles only batches here.
    _pair(keras_ref, "sobel_edges", _images(data_format, low=-1), data_format=data_format)


@pytest.mark.parametrize("data_format", FORMATS)
def test_ssim(keras_ref, data_format):
    a = _images(data_format, shape=(2, 14, 15, 3))
    b = np.clip(a + random_array(a.shape, seed=3, low=-0.2, high=0.2), 0, 1)
    _pair(keras_ref, "ssim", a, b, data_format=data_format)
    _pair(keras_ref, "ssim", a[0], b[0], data_format=data_format)
    _pair(keras_ref, "ssim", a, b, 2.0, 5, 1.0, 0.02, 0.05, data_format=data_format)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_perspective_transform(keras_ref, data_format, interpolation):
    x = _images(data_format, shape=(2, 16, 12, 3))
    start = np.array([[[0, 0], [0, 16], [12, 0], [12, 16]]] * 2, "float32")
    end = start + random_array(start.shape, seed=4, low=-3, high=3)
    _pair(keras_ref, "perspective_transform", x, start, end, interpolation, 0.5, data_format=data_format)
    _pair(keras_ref, "perspective_transform", x[0], start[0], end[0], interpolation, data_format=data_format)


def test_perspective_transform_errors(keras_ref):
    x = _images("channels_last")
    pts = np.zeros((3, 2), "float32")
    for fn in (image.perspective_transform, keras_ref.ops.image.perspective_transform):
        with pytest.raises(ValueError):
            fn(x, pts, pts)
        with pytest.raises(ValueError):
            fn(x, np.zeros((4, 2), "float32"), np.zeros((4, 2), "float32"), interpolation="bicubic")


def test_elastic_transform_identity_shape_and_errors(keras_ref):
    x = _images("channels_last")
    # alpha=0 displaces nothing; random draws differ between the libraries, so only this setting compares values.
    _pair(keras_ref, "elastic_transform", x, 0.0, 5.0, seed=1, data_format="channels_last")
    _pair(keras_ref, "elastic_transform", x[0], 0.0, 2.0, "nearest", "constant", seed=1)
    for fn in (image.elastic_transform, keras_ref.ops.image.elastic_transform):
        with pytest.raises(ValueError):
            fn(x, interpolation="bicubic")
        with pytest.raises(ValueError):
            fn(x, fill_mode="foo")


@pytest.mark.parametrize("method", ["linear", "bilinear", "cubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [True, False])
def test_scale_and_translate(keras_ref, method, antialias):
    x = random_array((2, 7, 9, 3))
    for shape, scale, shift in [((2, 14, 5, 3), (2.0, 0.55), (-0.5, 0.3)), ((2, 4, 12, 3), (0.5, 1.4), (0.2, -1.0))]:
        _pair(keras_ref, "scale_and_translate", x, shape, np.array(scale, "float32"), np.array(shift, "float32"),
              (1, 2), method, antialias)
