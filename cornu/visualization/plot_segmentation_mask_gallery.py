"""``plot_segmentation_mask_gallery``: each image beside its true and/or predicted masks drawn over it."""
from __future__ import annotations

from typing import Any

import numpy as np

from cornu.visualization._arrays import channels_last_batch, scale_to_uint8_range
from cornu.visualization.draw_segmentation_masks import draw_segmentation_masks
from cornu.visualization.plot_image_gallery import plot_image_gallery


def plot_segmentation_mask_gallery(images: Any, num_classes: int, value_range: tuple = (0, 255), y_true: Any = None,
                                   y_pred: Any = None, color_mapping: dict | None = None, blend: bool = True,
                                   alpha: float = 0.8, ignore_index: int = -1, data_format: str | None = None,
                                   **kwargs) -> None:
    """A gallery with one row per image: the image, then ``y_true`` and ``y_pred`` drawn over it (when given).

    ``kwargs`` go to ``plot_image_gallery`` (``path``, ``show``, ``scale`` ...).
    """
    images = channels_last_batch(images, data_format, "plot_segmentation_mask_gallery")
    images = scale_to_uint8_range(images, value_range).astype("float32")
    columns = [images if images.shape[-1] == 3 else np.repeat(images[..., :1], 3, axis=-1)]
    for masks in (y_true, y_pred):
        if masks is not None:
            columns.append(draw_segmentation_masks(images, masks, num_classes=num_classes,
                                                   color_mapping=color_mapping, alpha=alpha, blend=blend,
                                                   ignore_index=ignore_index, data_format="channels_last"))
    gallery = np.stack([np.asarray(c, dtype="float32") for c in columns], axis=1).reshape((-1,) + images.shape[1:3]
                                                                                          + (3,))
    return plot_image_gallery(gallery, value_range=(0, 255), rows=len(images), cols=len(columns),
                              data_format="channels_last", **kwargs)
