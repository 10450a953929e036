"""Pooling layers against NumPy references."""
import math

import numpy as np
import pytest

from cornu.layers import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling1D, MaxPooling2D
from cornu.symbolic import KerasTensor


def pool_ref(x, size, strides, padding, mode):
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = math.ceil(h / strides[0]), math.ceil(w / strides[1])
        ph = max((oh - 1) * strides[0] + size[0] - h, 0)
        pw = max((ow - 1) * strides[1] + size[1] - w, 0)
        pads = ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0))
        x = np.pad(x, pads, constant_values=np.nan)
    else:
        oh, ow = (h - size[0]) // strides[0] + 1, (w - size[1]) // strides[1] + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * strides[0]: i * strides[0] + size[0], j * strides[1]: j * strides[1] + size[1]]
            out[:, i, j] = np.nanmax(win, (1, 2)) if mode == "max" else np.nanmean(win, (1, 2))
    return out


@pytest.mark.parametrize("cls,mode", [(MaxPooling2D, "max"), (AveragePooling2D, "avg")])
@pytest.mark.parametrize("padding,size,strides,hw", [
    ("valid", (2, 2), (2, 2), (7, 8)),
    ("same", (2, 2), (2, 2), (7, 8)),
    ("same", (3, 3), (2, 2), (8, 8)),
    ("valid", (3, 2), (1, 2), (6, 7)),
])
def test_pooling_matches_reference(cls, mode, padding, size, strides, hw):
    x = np.random.default_rng(0).normal(size=(2, *hw, 3))
    layer = cls(size, strides=strides, padding=padding)
    y = layer(x.astype("float32")).detach().numpy()
    ref = pool_ref(x, size, strides, padding, mode)
    np.testing.assert_allclose(y, ref, atol=1e-5)
    assert layer.compute_output_shape((None, *hw, 3)) == (None, *ref.shape[1:])


def test_default_strides_equal_pool_size():
    layer = MaxPooling2D((2, 2))
    assert layer.strides == (2, 2)
    out = layer(KerasTensor((None, 26, 26, 32)))
    assert out.shape == (None, 13, 13, 32)


def test_global_pooling():
    x = np.random.default_rng(1).normal(size=(2, 5, 4, 3)).astype("float32")
    np.testing.assert_allclose(GlobalAveragePooling2D()(x).numpy(), x.mean((1, 2)), atol=1e-6)
    np.testing.assert_allclose(GlobalAveragePooling2D(keepdims=True)(x).numpy(), x.mean((1, 2), keepdims=True),
                               atol=1e-6)
    x1 = x[:, :, 0, :]
    np.testing.assert_allclose(GlobalMaxPooling1D()(x1).numpy(), x1.max(1))


def test_pooling_rank_error():
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=2"):
        MaxPooling2D()(KerasTensor((None, 10)))
