"""AdaptiveAverage/MaxPooling1D/2D/3D against a float64 NumPy reference of the adaptive windows
(window ``i`` of ``n`` over ``L`` covers ``[floor(i*L/n), ceil((i+1)*L/n))``), shapes, config, errors."""
import itertools
import math

import numpy as np
import pytest

import cornu
from cornu.layers import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
                          AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from tests.helpers import assert_close, f64, random_array

_CLASSES = {("average", 1): AdaptiveAveragePooling1D, ("average", 2): AdaptiveAveragePooling2D,
            ("average", 3): AdaptiveAveragePooling3D, ("max", 1): AdaptiveMaxPooling1D,
            ("max", 2): AdaptiveMaxPooling2D, ("max", 3): AdaptiveMaxPooling3D}


def adaptive_ref(x, output_size, mode):
    """Channels-last adaptive pooling by loops over output cells."""
    spatial = x.shape[1:-1]
    out = np.zeros((x.shape[0], *output_size, x.shape[-1]))
    for cell in itertools.product(*(range(n) for n in output_size)):
        window = tuple(slice(i * size // n, math.ceil((i + 1) * size / n))
                       for i, size, n in zip(cell, spatial, output_size))
        patch = x[(slice(None),) + window + (slice(None),)]
        axes = tuple(range(1, len(spatial) + 1))
        out[(slice(None),) + cell] = patch.max(axis=axes) if mode == "max" else patch.mean(axis=axes)
    return out


@pytest.mark.parametrize("mode", ["average", "max"])
@pytest.mark.parametrize("sizes,output_size", [
    ((7,), (3,)), ((10,), (4,)), ((5,), (7,)), ((6,), (6,)),
    ((7, 5), (3, 2)), ((4, 9), (4, 4)), ((3, 8), (5, 3)),
    ((3, 4, 5), (2, 3, 2)), ((5, 2, 3), (1, 2, 3)),
])
def test_matches_window_reference(mode, sizes, output_size):
    x = random_array((2, *sizes, 3), seed=len(sizes))
    layer = _CLASSES[mode, len(sizes)](output_size)
    y = layer(x)
    assert_close(y, adaptive_ref(f64(x), output_size, mode), rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape(x.shape) == tuple(y.shape)


@pytest.mark.parametrize("mode", ["average", "max"])
def test_channels_first(mode):
    x = random_array((2, 3, 7, 6), seed=1)
    y = _CLASSES[mode, 2](3, data_format="channels_first")(x)
    ref = adaptive_ref(f64(np.moveaxis(x, 1, -1)), (3, 3), mode)
    assert_close(y, np.moveaxis(ref, -1, 1), rtol=1e-6, atol=1e-6)


def test_symbolic_shapes_with_unknown_spatial_size():
    out = AdaptiveAveragePooling2D((4, 2))(cornu.Input((None, None, 5)))
    assert tuple(out.shape) == (None, 4, 2, 5)
    out = AdaptiveMaxPooling3D(2, data_format="channels_first")(cornu.Input((5, None, 8, None)))
    assert tuple(out.shape) == (None, 5, 2, 2, 2)


def test_config_and_output_size_forms():
    assert AdaptiveMaxPooling1D(3).output_size == (3,)
    assert AdaptiveMaxPooling1D([3]).output_size == (3,)
    assert AdaptiveAveragePooling2D([3, 2]).output_size == (3, 2)
    layer = AdaptiveAveragePooling3D((1, 2, 3), data_format="channels_first")
    config = layer.get_config()
    assert config["output_size"] == (1, 2, 3) and config["data_format"] == "channels_first"
    assert AdaptiveAveragePooling3D.from_config(config).get_config() == config


@pytest.mark.parametrize("make,error", [
    (lambda: AdaptiveAveragePooling2D((2, 2, 2)), TypeError),
    (lambda: AdaptiveAveragePooling2D(2.5), TypeError),
    (lambda: AdaptiveMaxPooling3D((2, 2)), TypeError),
    (lambda: AdaptiveMaxPooling1D((2, 3)), ValueError),
    (lambda: AdaptiveMaxPooling1D("2"), TypeError),
    (lambda: AdaptiveMaxPooling2D(0), ValueError),
    (lambda: AdaptiveMaxPooling2D(2, data_format="nhwc"), ValueError),
    (lambda: AdaptiveMaxPooling2D(2)(np.zeros((1, 4, 4), "float32")), ValueError),
])
def test_bad_arguments(make, error):
    with pytest.raises(error):
        make()
