"""``draw_segmentation_masks``: class masks painted (optionally alpha-blended) over an image batch."""
from __future__ import annotations

from typing import Any

import numpy as np

from cornu.visualization._arrays import channels_last_batch, to_numpy


def default_palette(num_classes: int) -> np.ndarray:
    """Distinct RGB colors per class index: ``index * (2**25 - 1, 2**15 - 1, 2**21 - 1) mod 255``."""
    return (np.arange(num_classes)[:, None] * np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])) % 255


def draw_segmentation_masks(images: Any, segmentation_masks: Any, num_classes: int | None = None,
                            color_mapping: dict | None = None, alpha: float = 0.8, blend: bool = True,
                            ignore_index: int = -1, data_format: str | None = None) -> np.ndarray:
    """``images`` (``(batch, h, w, c)``) with each class of ``segmentation_masks`` (``(batch, h, w[, 1])``) painted.

    Every class ``0 .. num_classes - 1`` gets its color (``color_mapping`` or the default palette). With ``blend``,
    the result is ``(1 - alpha) * image + alpha * colors`` cast to ``uint8``, with ``ignore_index`` pixels left as
    the image; without, it is the painted color layer alone, as Keras returns it.
    """
    images = channels_last_batch(images, data_format, "draw_segmentation_masks")
    masks = to_numpy(segmentation_masks)
    if masks.dtype.kind not in "iu":
        raise TypeError(f"`segmentation_masks` must be in integer dtype. Received: segmentation_masks.dtype="
                        f"{masks.dtype}")
    if masks.ndim == 4:
        masks = masks[..., 0]
    if num_classes is None:
        num_classes = int(masks.max()) + 1
    if color_mapping is None:
        colors = default_palette(num_classes)
    else:
        colors = np.array([color_mapping[i] for i in range(num_classes)])
    drawn = np.zeros(images.shape[:3] + (3,), dtype="float32")
    for index in range(num_classes):
        drawn[masks == index] = colors[index]
    if not blend:
        return drawn
    blended = images.astype("float32") * (1 - alpha) + drawn * alpha
    keep = (masks == ignore_index)[..., None]
    return np.where(keep, images, blended).astype("uint8")
