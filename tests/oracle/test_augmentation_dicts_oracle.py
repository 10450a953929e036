"""Dict inputs of the affine augmentation layers against Keras 3.15.1, with transforms pinned by one-point ranges."""
import copy

import numpy as np
import pytest

from cornu import layers
from tests.helpers import assert_close, f64, random_array

BOXES = np.array([[[1, 1, 4, 3], [0, 2, 7, 5], [6, 0, 8, 1]], [[2, 0, 5, 6], [3, 3, 4, 4], [0, 0, 1, 1]]], "float32")
BOX_LABELS = np.array([[1, 2, 3], [0, 1, 3]], "float32")
MASKS = np.random.default_rng(1).integers(0, 4, (2, 6, 8, 1)).astype("float32")

PINNED = [("RandomZoom", {"height_factor": (0.5, 0.5)}),
          ("RandomZoom", {"height_factor": (-0.5, -0.5), "width_factor": (-0.25, -0.25)}),
          ("RandomTranslation", {"height_factor": (0.25, 0.25), "width_factor": (-0.5, -0.5)}),
          ("RandomTranslation", {"height_factor": (-0.1, -0.1), "width_factor": (0.3, 0.3), "fill_mode": "constant"})]
ROTATIONS = [("RandomRotation", {"factor": (0.25, 0.25)}), ("RandomRotation", {"factor": (0.1, 0.1)}),
             ("RandomRotation", {"factor": (-0.3, -0.3), "fill_mode": "nearest"})]


def _inputs(keras_ref, fmt: str, with_masks: bool = True) -> dict:
    boxes = keras_ref.ops.convert_to_numpy(
        keras_ref.utils.bounding_boxes.convert_format(BOXES, "xyxy", fmt, height=6, width=8))
    data = {"images": random_array((2, 6, 8, 3), low=0, high=1), "labels": np.eye(2, dtype="float32"),
            "bounding_boxes": {"boxes": boxes, "labels": BOX_LABELS.copy()}}
    if with_masks:
        data["segmentation_masks"] = MASKS.copy()
    return data


def _compare(ours: dict, theirs: dict, keras_ref, keys) -> None:
    np_ = keras_ref.ops.convert_to_numpy
    assert sorted(ours) == sorted(theirs)
    for key in keys:
        assert_close(ours[key], np_(theirs[key]), atol=1e-5)
    assert_close(ours["bounding_boxes"]["boxes"], np_(theirs["bounding_boxes"]["boxes"]), atol=1e-5)
    assert_close(ours["bounding_boxes"]["labels"], np_(theirs["bounding_boxes"]["labels"]), rtol=0, atol=0)


@pytest.mark.parametrize("name,kwargs", PINNED)
@pytest.mark.parametrize("fmt", ["xyxy", "rel_yxyx", "center_xywh"])
def test_pinned_transform_of_images_masks_boxes(keras_ref, name, kwargs, fmt):
    data = _inputs(keras_ref, fmt)
    theirs = getattr(keras_ref.layers, name)(**kwargs, seed=1, bounding_box_format=fmt)(copy.deepcopy(data),
                                                                                       training=True)
    ours = getattr(layers, name)(**kwargs, seed=1, bounding_box_format=fmt)(copy.deepcopy(data), training=True)
    _compare(ours, theirs, keras_ref, ["images", "labels", "segmentation_masks"])


@pytest.mark.parametrize("name,kwargs", ROTATIONS)
def test_pinned_rotation_of_images_and_xyxy_boxes(keras_ref, name, kwargs):
    """Keras's rotation masks follow neither interpolation of its images; ours take the images' warp (nearest)."""
    data = _inputs(keras_ref, "xyxy", with_masks=False)
    theirs = getattr(keras_ref.layers, name)(**kwargs, seed=1, bounding_box_format="xyxy")(copy.deepcopy(data),
                                                                                          training=True)
    ours = getattr(layers, name)(**kwargs, seed=1, bounding_box_format="xyxy")(copy.deepcopy(data), training=True)
    _compare(ours, theirs, keras_ref, ["images", "labels"])


@pytest.mark.parametrize("name,kwargs", PINNED + ROTATIONS)
def test_inference_identity(keras_ref, name, kwargs):
    data = _inputs(keras_ref, "xyxy")
    as_tensors = {k: (keras_ref.ops.convert_to_tensor(v) if k != "bounding_boxes" else
                      {kk: keras_ref.ops.convert_to_tensor(vv) for kk, vv in v.items()}) for k, v in data.items()}
    theirs = getattr(keras_ref.layers, name)(**kwargs, seed=1, bounding_box_format="xyxy")(as_tensors, training=False)
    ours = getattr(layers, name)(**kwargs, seed=1, bounding_box_format="xyxy")(copy.deepcopy(data), training=False)
    _compare(ours, theirs, keras_ref, ["images", "labels", "segmentation_masks"])
    assert_close(ours["images"], data["images"], rtol=0, atol=0)


@pytest.mark.parametrize("name,kwargs", [("RandomRotation", {"factor": 0.2}), ("RandomZoom", {"height_factor": 0.2})])
def test_config_with_bounding_box_format(keras_ref, name, kwargs):
    ours = getattr(layers, name)(**kwargs, bounding_box_format="yxyx", name="aug")
    theirs = getattr(keras_ref.layers, name)(**kwargs, bounding_box_format="yxyx", name="aug")
    assert ours.get_config() == theirs.get_config()


def test_boxes_without_format_raise_value_error(keras_ref):
    data = _inputs(keras_ref, "xyxy")
    with pytest.raises(ValueError):
        keras_ref.layers.RandomZoom(0.2)(copy.deepcopy(data), training=True)
    with pytest.raises(ValueError):
        layers.RandomZoom(0.2)(copy.deepcopy(data), training=True)


def test_labels_pass_through_random_draws(keras_ref):
    """Unpinned draws differ between the two, but both return the labels unchanged and the same structure."""
    data = {"images": random_array((4, 6, 8, 3)), "labels": np.eye(4, dtype="float32")}
    theirs = keras_ref.layers.RandomRotation(0.2, seed=1)(copy.deepcopy(data), training=True)
    ours = layers.RandomRotation(0.2, seed=1)(copy.deepcopy(data), training=True)
    assert sorted(ours) == sorted(theirs) and tuple(ours["images"].shape) == tuple(theirs["images"].shape)
    assert_close(ours["labels"], f64(keras_ref.ops.convert_to_numpy(theirs["labels"])), rtol=0, atol=0)


FLIP_HAS_DRAW = "draw" in vars(layers.RandomFlip)


@pytest.mark.skipif(not FLIP_HAS_DRAW, reason="RandomFlip does not split its transform into draw/apply yet")
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
@pytest.mark.parametrize("fmt", ["xyxy", "rel_xywh"])
def test_flip_boxes_and_masks_for_the_same_flip(keras_ref, mode, fmt):
    """One image: for each Keras seed, a cornu seed drawing the same flip, then boxes and masks must agree."""
    corners = np.random.default_rng(2).uniform(-2, 5, (1, 4, 2)).astype("float32")
    boxes = np.concatenate([corners, corners + np.array([2.5, 0.8], "float32")], -1)  # some cross the edges
    rel = keras_ref.ops.convert_to_numpy(keras_ref.utils.bounding_boxes.convert_format(boxes, "xyxy", fmt, height=6,
                                                                                       width=8))
    data = {"images": random_array((1, 6, 8, 3)), "segmentation_masks": MASKS[:1].copy(),
            "bounding_boxes": {"boxes": rel, "labels": np.ones((1, 4), "float32")}}
    for seed in range(4):
        theirs = keras_ref.layers.RandomFlip(mode, seed=seed, bounding_box_format=fmt)(copy.deepcopy(data),
                                                                                      training=True)
        target = keras_ref.ops.convert_to_numpy(theirs["images"])
        for our_seed in range(64):
            ours = layers.RandomFlip(mode, seed=our_seed, bounding_box_format=fmt)(copy.deepcopy(data), training=True)
            if np.array_equal(f64(ours["images"]), f64(target)):
                break
        _compare(ours, theirs, keras_ref, ["images", "segmentation_masks"])
