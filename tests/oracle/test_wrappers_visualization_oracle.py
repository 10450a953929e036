"""Differential tests against Keras 3.15: utils.bounding_boxes, visualization and the scikit-learn wrappers."""
import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, seeded
from tests.utils.test_bounding_boxes import FORMATS, H, W, np_from_xyxy, xyxy_boxes


def _both(keras_ref, name, *args, **kwargs):
    ours = getattr(cornu.utils.bounding_boxes, name)(*args, **kwargs)
    theirs = getattr(keras_ref.utils.bounding_boxes, name)(*args, **kwargs)
    return ours, theirs


def _same(ours, theirs, rtol=1e-5, atol=1e-5):
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs)
        for k in theirs:
            _same(ours[k], theirs[k], rtol, atol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert_close(ours, theirs, rtol=rtol, atol=atol)


def test_public_names_match(keras_ref):
    names = {n for n in dir(keras_ref.utils.bounding_boxes) if not n.startswith("_")}
    assert names == {n for n in dir(cornu.utils.bounding_boxes) if not n.startswith("_")} - {"converters", "formats",
                                                                                            "iou"}


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("dst", ["xyxy", "rel_yxyx", "center_yxhw", "xywh", "rel_center_xywh"])
def test_convert_format(keras_ref, src, dst):
    b = np_from_xyxy(xyxy_boxes((2, 5)), src).astype("float32")
    _same(*_both(keras_ref, "convert_format", b, src, dst, height=H, width=W))
    _same(*_both(keras_ref, "convert_format", {"boxes": b[0], "labels": np.arange(5)}, src, dst, height=H, width=W))


def test_convert_format_errors(keras_ref):
    b = xyxy_boxes((3,))
    for args, kw in [(("abc", "xyxy"), {}), (("xyxy", "rel_xyxy"), {}), (("rel_xyxy", "xywh"), {})]:
        with pytest.raises(ValueError):
            keras_ref.utils.bounding_boxes.convert_format(b, *args, **kw)
        with pytest.raises(ValueError):
            cornu.utils.bounding_boxes.convert_format(b, *args, **kw)


def test_clip_crop_pad(keras_ref):
    rng = seeded(3)
    b = (rng.uniform(-0.3, 1.3, (2, 6, 4)) * [W, H, W, H]).astype("float32")
    b = np.concatenate([np.minimum(b[..., :2], b[..., 2:]), np.maximum(b[..., :2], b[..., 2:])], -1)
    labels = rng.integers(0, 5, (2, 6))
    _same(*_both(keras_ref, "clip_to_image_size", {"boxes": b, "labels": labels}, height=H, width=W))
    _same(*_both(keras_ref, "clip_to_image_size", {"boxes": b[0] / 150, "labels": labels[0]},
                 bounding_box_format="rel_xyxy"))
    for fmt in ["xywh", "yxyx"]:
        with pytest.raises(NotImplementedError):
            cornu.utils.bounding_boxes.clip_to_image_size({"boxes": b}, height=H, width=W, bounding_box_format=fmt)
    _same(*_both(keras_ref, "crop", b, top=10, left=20, height=40, width=30))
    _same(*_both(keras_ref, "pad", b, top=10, left=20))


@pytest.mark.parametrize("center", [False, True])
def test_affine_transform(keras_ref, center):
    fmt = "xyxy"
    rng = seeded(4)
    b = np_from_xyxy(xyxy_boxes((3, 4), seed=5), fmt).astype("float32")
    p = dict(angle=rng.uniform(-60, 60, 3), translate_x=rng.uniform(-0.2, 0.2, 3),
             translate_y=rng.uniform(-0.2, 0.2, 3), scale=rng.uniform(0.7, 1.4, 3),
             shear_x=rng.uniform(-20, 20, 3), shear_y=rng.uniform(-20, 20, 3))
    if center:
        p.update(center_x=rng.uniform(0, 1, 3), center_y=rng.uniform(0, 1, 3))
    _same(*_both(keras_ref, "affine_transform", b, height=H, width=W, bounding_box_format=fmt, **p), atol=1e-4)
    for lib in (keras_ref, cornu):
        with pytest.raises(NotImplementedError):
            lib.utils.bounding_boxes.affine_transform(b, height=H, width=W, bounding_box_format="xywh", **p)


@pytest.mark.parametrize("enc", ["center_yxhw", "center_xywh"])
@pytest.mark.parametrize("variance", [None, [0.1, 0.1, 0.2, 0.2]])
def test_encode_decode(keras_ref, enc, variance):
    anchors = xyxy_boxes((6,), seed=6)
    boxes = torch.as_tensor(np_from_xyxy(xyxy_boxes((2, 6), seed=7), "xywh").astype("float32"))
    kw = dict(variance=variance)
    ours, theirs = _both(keras_ref, "encode_box_to_deltas", anchors, boxes, "xyxy", "xywh", encoding_format=enc, **kw)
    _same(ours, theirs, atol=1e-4)
    _same(*_both(keras_ref, "decode_deltas_to_boxes", anchors, theirs, "xyxy", "rel_xyxy", encoded_format=enc,
                 image_shape=(H, W, 3), **kw), atol=1e-4)
    _same(*_both(keras_ref, "decode_deltas_to_boxes", {"a": anchors}, {"a": theirs[0]}, "xyxy", "xywh",
                 encoded_format=enc, **kw), atol=1e-3)
    for name, kwargs in [("encode_box_to_deltas", dict(variance=[1, 2])),
                         ("encode_box_to_deltas", dict(encoding_format="xyxy")),
                         ("decode_deltas_to_boxes", dict(encoded_format="xyxy"))]:
        second = boxes if name.startswith("encode") else theirs
        with pytest.raises(ValueError):
            getattr(keras_ref.utils.bounding_boxes, name)(anchors, second, "xyxy", "xywh", **kwargs)
        with pytest.raises(ValueError):
            getattr(cornu.utils.bounding_boxes, name)(anchors, second, "xyxy", "xywh", **kwargs)


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "center_yxhw", "rel_xyxy"])
def test_iou_ciou(keras_ref, fmt):
    a = np_from_xyxy(xyxy_boxes((2, 5), seed=8), fmt).astype("float32")
    b = np_from_xyxy(xyxy_boxes((2, 5), seed=9), fmt).astype("float32")
    b[0, 0] = b[0, 1]  # one identical pair
    kw = dict(image_shape=(H, W, 3)) if fmt.startswith("rel") else {}
    _same(*_both(keras_ref, "compute_iou", a, b, fmt, **kw))
    _same(*_both(keras_ref, "compute_iou", a[0], b, fmt, **kw))
    masked = np.concatenate([a[0], -np.ones((1, 4), "float32")])
    _same(*_both(keras_ref, "compute_iou", masked, b[0], fmt, use_masking=True, mask_val=-3, **kw))
    if fmt.startswith("rel"):
        # Keras 3.15's compute_ciou rejects relative formats even with image_shape; cornu converts them
        ours = cornu.utils.bounding_boxes.compute_ciou(a, b, fmt, **kw)
        theirs = keras_ref.utils.bounding_boxes.compute_ciou(a * [W, H, W, H], b * [W, H, W, H], fmt[4:])
        assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    else:
        _same(*_both(keras_ref, "compute_ciou", a, b, fmt, **kw), atol=1e-5)
    with pytest.raises(ValueError):
        cornu.utils.bounding_boxes.compute_iou(a, b, "abc")
    with pytest.raises(ValueError):
        keras_ref.utils.bounding_boxes.compute_iou(a, b, "abc")
