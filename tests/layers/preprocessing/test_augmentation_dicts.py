"""Keras's dict inputs to the augmentation layers: images, labels, segmentation masks and bounding boxes."""
import math

import numpy as np
import pytest
import torch

from cornu import layers
from tests.helpers import assert_close, f64, random_array

BOXES = np.array([[[1, 1, 4, 3], [0, 2, 7, 5], [6, 0, 8, 1]], [[2, 0, 5, 6], [3, 3, 4, 4], [0, 0, 1, 1]]], "float32")
BOX_LABELS = np.array([[1, 2, 3], [0, 1, 3]], "float32")


def _masks(shape=(2, 6, 8, 1), seed=1):
    return np.random.default_rng(seed).integers(0, 4, shape).astype("float32")


def _data(with_boxes=True):
    data = {"images": random_array((2, 6, 8, 3), low=0, high=1), "labels": np.eye(2, dtype="float32"),
            "segmentation_masks": _masks()}
    if with_boxes:
        data["bounding_boxes"] = {"boxes": BOXES.copy(), "labels": BOX_LABELS.copy()}
    return data


AFFINE = [(layers.RandomRotation, dict(factor=0.2)), (layers.RandomZoom, dict(height_factor=0.3)),
          (layers.RandomTranslation, dict(height_factor=0.2, width_factor=0.3))]


@pytest.mark.parametrize("cls,kwargs", AFFINE)
def test_dict_images_as_tensor_path_labels_pass(cls, kwargs):
    data = _data()
    out = cls(**kwargs, seed=3, bounding_box_format="xyxy")(data, training=True)
    assert sorted(out) == sorted(data)
    assert sorted(out["bounding_boxes"]) == ["boxes", "labels"]
    expected = cls(**kwargs, seed=3)(data["images"], training=True)
    assert_close(out["images"], expected, rtol=0, atol=0)
    assert_close(out["labels"], data["labels"], rtol=0, atol=0)
    assert tuple(out["segmentation_masks"].shape) == data["segmentation_masks"].shape


@pytest.mark.parametrize("cls,kwargs", AFFINE)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_mask_gets_the_images_warp(cls, kwargs, data_format):
    """Images equal to the mask, warped with nearest interpolation: the same output as the mask's."""
    masks = _masks((3, 7, 9, 2))
    if data_format == "channels_first":
        masks = masks.transpose(0, 3, 1, 2)
    layer = cls(**kwargs, interpolation="nearest", fill_mode="constant", fill_value=9.0, seed=5,
                data_format=data_format)
    out = layer({"images": masks, "segmentation_masks": masks}, training=True)
    assert_close(out["segmentation_masks"], out["images"], rtol=0, atol=0)
    assert not np.array_equal(f64(out["images"]), masks)


@pytest.mark.parametrize("cls,kwargs", AFFINE)
def test_bilinear_layer_warps_masks_with_nearest(cls, kwargs):
    masks = _masks()
    out = cls(**kwargs, seed=2)({"images": random_array((2, 6, 8, 3)), "segmentation_masks": masks}, training=True)
    values = f64(out["segmentation_masks"])
    assert set(np.unique(values)) <= set(np.unique(masks))  # no blended class values
    nearest = cls(**kwargs, seed=2, interpolation="nearest")(masks, training=True)
    assert_close(values, nearest, rtol=0, atol=0)


def _clip_and_flag(boxes, labels, h, w):
    boxes = boxes.copy()
    boxes[..., 0::2] = boxes[..., 0::2].clip(0, w)
    boxes[..., 1::2] = boxes[..., 1::2].clip(0, h)
    empty = (boxes[..., 2] <= boxes[..., 0]) | (boxes[..., 3] <= boxes[..., 1])
    return boxes, np.where(empty, -1.0, labels)


def test_translation_boxes_shift_clip_and_drop():
    layer = layers.RandomTranslation((0.25, 0.25), (-0.5, -0.5), seed=1, bounding_box_format="xyxy")
    out = layer(_data(), training=True)
    shifted = BOXES.astype(np.float64) + np.array([-0.5 * 8, 0.25 * 6, -0.5 * 8, 0.25 * 6])
    boxes, labels = _clip_and_flag(shifted, BOX_LABELS, 6, 8)
    assert_close(out["bounding_boxes"]["boxes"], boxes)
    assert_close(out["bounding_boxes"]["labels"], labels, rtol=0, atol=0)
    assert (f64(out["bounding_boxes"]["labels"]) == -1).any()


def test_zoom_boxes_scale_about_the_centre():
    layer = layers.RandomZoom((0.5, 0.5), (-0.25, -0.25), seed=1, bounding_box_format="xyxy")
    out = layer(_data(), training=True)
    cx, cy = (8 - 1) / 2, (6 - 1) / 2
    b = BOXES.astype(np.float64)
    scaled = np.stack([(b[..., 0] - cx) / 0.75 + cx, (b[..., 1] - cy) / 1.5 + cy,
                       (b[..., 2] - cx) / 0.75 + cx, (b[..., 3] - cy) / 1.5 + cy], -1)
    boxes, labels = _clip_and_flag(scaled, BOX_LABELS, 6, 8)
    assert_close(out["bounding_boxes"]["boxes"], boxes)
    assert_close(out["bounding_boxes"]["labels"], labels, rtol=0, atol=0)


def test_rotation_boxes_enclose_rotated_corners():
    angle = 0.1 * 2 * math.pi
    layer = layers.RandomRotation((0.1, 0.1), seed=1, bounding_box_format="xyxy")
    out = layer(_data(), training=True)
    cx, cy = (8 - 1) / 2, (6 - 1) / 2
    b = BOXES.astype(np.float64)
    xs = np.stack([b[..., 0], b[..., 2], b[..., 0], b[..., 2]], -1) - cx
    ys = np.stack([b[..., 1], b[..., 1], b[..., 3], b[..., 3]], -1) - cy
    # The images read input = R(angle) @ output about the centre, so boxes move by R(-angle).
    rx = math.cos(angle) * xs + math.sin(angle) * ys + cx
    ry = -math.sin(angle) * xs + math.cos(angle) * ys + cy
    enclosing = np.stack([rx.min(-1), ry.min(-1), rx.max(-1), ry.max(-1)], -1)
    boxes, labels = _clip_and_flag(enclosing, BOX_LABELS, 6, 8)
    assert_close(out["bounding_boxes"]["boxes"], boxes, atol=1e-5)
    assert_close(out["bounding_boxes"]["labels"], labels, rtol=0, atol=0)


def test_boxes_in_other_formats_round_trip_through_xyxy():
    from cornu.utils.bounding_boxes import convert_format

    rel = f64(convert_format(BOXES, "xyxy", "rel_yxyx", height=6, width=8))
    kwargs = dict(height_factor=(0.5, 0.5), seed=1)
    ours = layers.RandomZoom(**kwargs, bounding_box_format="rel_yxyx")(
        {"images": random_array((2, 6, 8, 3)), "bounding_boxes": {"boxes": rel, "labels": BOX_LABELS}}, training=True)
    xyxy = layers.RandomZoom(**kwargs, bounding_box_format="xyxy")(_data(), training=True)
    expected = convert_format(xyxy["bounding_boxes"]["boxes"], "xyxy", "rel_yxyx", height=6, width=8)
    assert_close(ours["bounding_boxes"]["boxes"], expected, atol=1e-6)


def test_single_image_dict():
    data = {"images": random_array((6, 8, 3)), "segmentation_masks": _masks((6, 8, 1)),
            "bounding_boxes": {"boxes": BOXES[0], "labels": BOX_LABELS[0]}}
    out = layers.RandomTranslation((0.25, 0.25), (-0.5, -0.5), seed=1, bounding_box_format="xyxy")(data, training=True)
    batch = layers.RandomTranslation((0.25, 0.25), (-0.5, -0.5), seed=1, bounding_box_format="xyxy")(
        {k: (v[None] if k != "bounding_boxes" else {kk: vv[None] for kk, vv in v.items()}) for k, v in data.items()},
        training=True)
    assert tuple(out["images"].shape) == (6, 8, 3) and tuple(out["bounding_boxes"]["boxes"].shape) == (3, 4)
    assert_close(out["segmentation_masks"], batch["segmentation_masks"][0], rtol=0, atol=0)
    assert_close(out["bounding_boxes"]["boxes"], batch["bounding_boxes"]["boxes"][0], rtol=0, atol=0)


def test_inference_passes_everything_through():
    data = _data()
    out = layers.RandomRotation(0.3, seed=1, bounding_box_format="xyxy")(data, training=False)
    assert_close(out["images"], data["images"], rtol=0, atol=0)
    assert_close(out["segmentation_masks"], data["segmentation_masks"], rtol=0, atol=0)
    assert_close(out["bounding_boxes"]["boxes"], BOXES, rtol=0, atol=0)
    assert out["images"].dtype == torch.float32
    assert isinstance(out["segmentation_masks"], torch.Tensor) and isinstance(out["labels"], torch.Tensor)
    assert all(isinstance(v, torch.Tensor) for v in out["bounding_boxes"].values())


def test_bad_dicts():
    with pytest.raises(ValueError, match="bounding box format"):
        layers.RandomZoom(0.2)(_data(), training=True)
    with pytest.raises(ValueError, match="images"):
        layers.RandomZoom(0.2)({"labels": np.eye(2)}, training=True)


def test_layers_without_draw_take_images_and_labels_only():
    data = _data(with_boxes=False)
    out = layers.RandomPerspective(seed=1)({"images": data["images"], "labels": data["labels"]}, training=True)
    assert_close(out["images"], layers.RandomPerspective(seed=1)(data["images"], training=True), rtol=0, atol=0)
    assert_close(out["labels"], data["labels"], rtol=0, atol=0)
    with pytest.raises(NotImplementedError, match="RandomPerspective"):
        layers.RandomPerspective(seed=1)(data, training=True)


def test_bounding_box_format_in_config():
    layer = layers.RandomRotation(0.2, bounding_box_format="center_xywh", name="r")
    config = layer.get_config()
    assert config["bounding_box_format"] == "center_xywh"
    assert layers.RandomRotation.from_config(config).get_config() == config
    assert "bounding_box_format" not in layers.RandomRotation(0.2).get_config()


@pytest.mark.skipif("draw" not in vars(layers.RandomFlip), reason="RandomFlip has no draw/apply yet")
def test_flip_mirrors_masks_and_boxes_with_the_images():
    images = random_array((8, 6, 8, 3))
    data = {"images": images, "segmentation_masks": _masks((8, 6, 8, 1)),
            "bounding_boxes": {"boxes": np.repeat(BOXES[:1], 8, 0), "labels": np.repeat(BOX_LABELS[:1], 8, 0)}}
    out = layers.RandomFlip("horizontal_and_vertical", seed=4, bounding_box_format="xyxy")(data, training=True)
    for i in range(8):
        got = f64(out["images"][i])
        h = np.allclose(got, images[i, :, ::-1]) or np.allclose(got, images[i, ::-1, ::-1])
        v = np.allclose(got, images[i, ::-1]) or np.allclose(got, images[i, ::-1, ::-1])
        mask = data["segmentation_masks"][i]
        mask = mask[:, ::-1] if h else mask
        assert_close(out["segmentation_masks"][i], mask[::-1] if v else mask, rtol=0, atol=0)
        b = BOXES[0].astype(np.float64)
        b = np.stack([8 - b[:, 2], b[:, 1], 8 - b[:, 0], b[:, 3]], -1) if h else b
        b = np.stack([b[:, 0], 6 - b[:, 3], b[:, 2], 6 - b[:, 1]], -1) if v else b
        assert_close(out["bounding_boxes"]["boxes"][i], b)
