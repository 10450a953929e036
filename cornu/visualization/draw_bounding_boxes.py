"""``draw_bounding_boxes``: box outlines and class/confidence captions drawn onto an image batch.

Keras draws with OpenCV; cornu draws with Pillow (installed with matplotlib), so no OpenCV is needed.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from cornu.visualization._arrays import channels_last_batch, to_numpy


def _caption(label: int, confidence: Any, class_mapping: dict | None) -> str | None:
    if class_mapping is None:
        return None
    text = str(class_mapping.get(label, label))
    if confidence is not None:
        text = f"{text} | {float(confidence):.2f}"
    return text


def draw_bounding_boxes(images: Any, bounding_boxes: dict, bounding_box_format: str,
                        class_mapping: dict | None = None, color: tuple = (128, 128, 128), line_thickness: int = 2,
                        text_thickness: int = 1, font_scale: float = 1.0, data_format: str | None = None) -> np.ndarray:
    """``images`` (``uint8``, same shape) with every box whose label is not ``-1`` outlined in ``color``.

    ``bounding_boxes`` holds ``"boxes"`` ``(batch, num_boxes, 4)`` in ``bounding_box_format`` (relative formats
    scale by the image size), ``"labels"`` ``(batch, num_boxes)`` and optionally ``"confidences"``; with
    ``class_mapping`` each box gets a caption (class name, then the confidence) above its top-left corner.
    """
    from PIL import Image, ImageDraw, ImageFont

    from cornu.config import image_data_format
    from cornu.utils.bounding_boxes import convert_format

    if not isinstance(bounding_boxes, dict):
        raise TypeError(f"`bounding_boxes` must be a dict. Received: bounding_boxes={type(bounding_boxes)}")
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(f"`bounding_boxes` must have the keys 'boxes' and 'labels'. Received: "
                         f"{list(bounding_boxes)}")
    channels_first = (data_format or image_data_format()) == "channels_first"
    images = channels_last_batch(images, data_format, "draw_bounding_boxes")
    height, width = images.shape[1:3]
    boxes = to_numpy(convert_format(bounding_boxes["boxes"], bounding_box_format, "xyxy", height=height,
                                    width=width))
    labels = to_numpy(bounding_boxes["labels"]).astype("int64")
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else to_numpy(confidences)
    font = ImageFont.load_default(size=max(1, round(10 * font_scale)))
    gray = images.shape[-1] == 1
    ink = int(round(float(np.mean(color)))) if gray else tuple(int(c) for c in color)
    out = []
    for i, image in enumerate(np.clip(images, 0, 255).astype("uint8")):
        canvas = Image.fromarray(image[..., 0] if gray else image)
        draw = ImageDraw.Draw(canvas)
        for j, (x1, y1, x2, y2) in enumerate(boxes[i].tolist()):
            if labels[i, j] == -1:
                continue
            draw.rectangle([round(x1), round(y1), round(x2), round(y2)], outline=ink, width=line_thickness)
            text = _caption(int(labels[i, j]), None if confidences is None else confidences[i, j], class_mapping)
            if text is not None:
                draw.text((round(x1), round(y1)), text, fill=ink, font=font, anchor="lb",
                          stroke_width=max(text_thickness - 1, 0), stroke_fill=ink)
        drawn = np.asarray(canvas)
        out.append(drawn[..., None] if gray else drawn)
    result = np.stack(out)
    return np.transpose(result, (0, 3, 1, 2)) if channels_first else result
