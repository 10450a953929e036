"""keras.utils.bounding_boxes: format conversion, clip/crop/pad/affine, deltas and IoU (plain + vs Keras)."""
import math

import numpy as np
import pytest
import torch

from cornu.utils import bounding_boxes as bb
from tests.helpers import assert_close, f64, seeded

FORMATS = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh",
           "rel_center_xywh"]
H, W = 100, 200


def xyxy_boxes(shape=(2, 5), seed=0):
    """Random well-formed absolute ``xyxy`` boxes inside a ``W x H`` image."""
    rng = seeded(seed)
    p = rng.uniform(0, 1, size=shape + (4,))
    x1, x2 = np.sort(p[..., [0, 2]] * W, -1).transpose(-1, *range(len(shape)))
    y1, y2 = np.sort(p[..., [1, 3]] * H, -1).transpose(-1, *range(len(shape)))
    return np.stack([x1, y1, x2, y2], -1).astype("float32")


def np_from_xyxy(b, fmt):
    x1, y1, x2, y2 = np.moveaxis(b.astype("float64"), -1, 0)
    rel = fmt.startswith("rel_")
    if rel:
        x1, x2, y1, y2 = x1 / W, x2 / W, y1 / H, y2 / H
    base = fmt[4:] if rel else fmt
    return np.stack({"xyxy": [x1, y1, x2, y2], "yxyx": [y1, x1, y2, x2], "xywh": [x1, y1, x2 - x1, y2 - y1],
                     "center_xywh": [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1],
                     "center_yxhw": [(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1]}[base], -1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_convert_format_from_xyxy_matches_formula(fmt):
    b = xyxy_boxes()
    out = bb.convert_format(b, "xyxy", fmt, height=H, width=W)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == b.shape
    assert_close(out, np_from_xyxy(b, fmt), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("dst", FORMATS)
def test_convert_format_round_trip(src, dst):
    b = np_from_xyxy(xyxy_boxes(), src).astype("float32")
    there = bb.convert_format(b, src.upper(), dst, height=H, width=W)
    assert_close(there, np_from_xyxy(xyxy_boxes(), dst), rtol=1e-4, atol=1e-4)
    assert_close(bb.convert_format(there, dst, src, height=H, width=W), b, rtol=1e-4, atol=1e-4)


def test_convert_format_dict_dtype_and_errors():
    b = xyxy_boxes((3,))
    d = bb.convert_format({"boxes": b, "labels": np.array([1, 2, 3])}, "xyxy", "xywh")
    assert_close(d["boxes"], np_from_xyxy(b, "xywh"), atol=1e-4)
    np.testing.assert_array_equal(d["labels"], [1, 2, 3])
    assert bb.convert_format(b.astype("int32"), "xyxy", "xywh").dtype == torch.float32
    assert bb.convert_format(b, "xyxy", "xywh", dtype="float64").dtype == torch.float64
    with pytest.raises(ValueError, match="abc"):
        bb.convert_format(b, "abc", "xyxy")
    with pytest.raises(ValueError, match="height"):
        bb.convert_format(b, "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="last dimension"):
        bb.convert_format(b[:, :3], "xyxy", "xywh")


def test_clip_crop_pad_formulas():
    b = np.array([[-10., 20., 150., 80.], [110, 5, 130, 15], [10, 10, 10, 30]], "float32")
    out = bb.clip_to_image_size({"boxes": b, "labels": np.array([1, 2, 3])}, height=100, width=120)
    assert_close(out["boxes"], np.stack([b[:, 0].clip(0, 120), b[:, 1].clip(0, 100), b[:, 2].clip(0, 120),
                                         b[:, 3].clip(0, 100)], -1))
    np.testing.assert_array_equal(out["labels"].numpy(), [1, 2, -1])
    with pytest.raises(ValueError):
        bb.clip_to_image_size({"boxes": b}, bounding_box_format="xyxy")
    assert_close(bb.crop(b, top=10, left=20, height=40, width=30),
                 np.stack([(b[:, 0] - 20).clip(0, 30), (b[:, 1] - 10).clip(0, 40), (b[:, 2] - 20).clip(0, 30),
                           (b[:, 3] - 10).clip(0, 40)], -1))
    assert_close(bb.pad(b, top=10, left=20), b + np.array([20, 10, 20, 10]))


def test_affine_rotation_about_center_is_rigid():
    b = xyxy_boxes((1, 4))
    zero = np.zeros(1)
    out = f64(bb.affine_transform(b, angle=np.array([90.0]), translate_x=zero, translate_y=zero,
                                  scale=np.ones(1), shear_x=zero, shear_y=zero, height=H, width=W))
    cx, cy = (W - 1) / 2, (H - 1) / 2
    x1, y1, x2, y2 = np.moveaxis(b.astype("float64"), -1, 0)
    # a quarter turn maps (x, y) to (cx + (y - cy), cy - (x - cx)): the box's sides swap
    assert_close(out, np.stack([cx + y1 - cy, cy - (x2 - cx), cx + y2 - cy, cy - (x1 - cx)], -1), atol=1e-4)
    ident = bb.affine_transform(b, zero, zero, zero, np.ones(1), zero, zero, height=H, width=W)
    assert_close(ident, b, atol=1e-4)


def test_encode_decode_round_trip_and_formula():
    anchors, boxes = xyxy_boxes((6,), seed=1), xyxy_boxes((6,), seed=2)
    d = f64(bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy"))
    ca, cb = np_from_xyxy(anchors, "center_yxhw"), np_from_xyxy(boxes, "center_yxhw")
    assert_close(d[:, :2], (cb[:, :2] - ca[:, :2]) / ca[:, 2:], rtol=1e-4, atol=1e-5)
    assert_close(d[:, 2:], np.log(cb[:, 2:] / ca[:, 2:]), rtol=1e-4, atol=1e-4)
    var = [0.1, 0.1, 0.2, 0.2]
    dv = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=var)
    assert_close(bb.decode_deltas_to_boxes(anchors, dv, "xyxy", "xyxy", variance=var), boxes, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="variance"):
        bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[1, 2])
    with pytest.raises(ValueError, match="xyxy"):
        bb.decode_deltas_to_boxes(anchors, dv, "xyxy", "xyxy", encoded_format="xyxy")


def test_iou_and_ciou_formulas():
    a = np.array([[0., 0., 10., 10.], [5, 5, 15, 25]], "float32")
    b = np.array([[5., 0., 15., 10.], [100, 100, 110, 110], [-1, -1, -1, -1]], "float32")
    iou = f64(bb.compute_iou(a, b, "xyxy", use_masking=True, mask_val=-5))
    assert iou.shape == (2, 3)
    assert_close(iou[0, 0], 50 / 150)
    assert_close(iou[1, 0], 50 / (100 + 200 - 50))
    assert_close(iou[:, 1], [0, 0])
    assert_close(iou[:, 2], [-5, -5])
    assert bb.compute_iou(a[None].repeat(3, 0), b, "xyxy").shape == (3, 2, 3)
    ciou = f64(bb.compute_ciou(a, b[:2], "xyxy"))
    # second pair: disjoint (IoU 0); centers (10, 15) and (105, 105); enclosing box (5, 5)-(110, 110)
    v = 4 / math.pi ** 2 * (math.atan(10 / 10) - math.atan(10 / 20)) ** 2
    assert_close(ciou[1], -((95 ** 2 + 90 ** 2) / (105 ** 2 + 105 ** 2) + v * v / (v + 1)), rtol=1e-4)
    # first pair: equal 10x10 squares overlapping by half, centers 5 apart, enclosing box 15 x 10
    assert_close(ciou[0], 50 / 150 - 25 / (15 ** 2 + 10 ** 2), rtol=1e-4)
