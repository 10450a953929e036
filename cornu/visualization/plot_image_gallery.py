"""``plot_image_gallery``: a grid of images with optional true/predicted class titles."""
from __future__ import annotations

import math
from typing import Any

from cornu.visualization._arrays import channels_last_batch, scale_to_uint8_range, to_numpy


def _grid(n: int, rows: int | None, cols: int | None) -> tuple[int, int]:
    """Keras's default layout: ``ceil(sqrt(n))`` rows and as many full columns as fit ``n`` images."""
    if rows is None and cols is None:
        rows = math.ceil(math.sqrt(n))
        cols = max(n // rows, 1)
    elif rows is None:
        rows = math.ceil(n / cols)
    elif cols is None:
        cols = max(n // rows, 1)
    return rows, cols


def _title(index: int, y_true: Any, y_pred: Any, label_map: dict | None) -> str:
    parts = []
    if y_true is not None:
        parts.append(f"Label: {label_map[int(y_true[index])]}")
    if y_pred is not None:
        parts.append(f"Pred: {label_map[int(y_pred[index])]}")
    return "  ".join(parts)


def plot_image_gallery(images: Any, y_true: Any = None, y_pred: Any = None, label_map: dict | None = None,
                       rows: int | None = None, cols: int | None = None, value_range: tuple = (0, 255),
                       scale: float = 2, path: str | None = None, show: bool | None = None,
                       transparent: bool = True, dpi: int = 60, legend_handles: list | None = None,
                       data_format: str | None = None) -> None:
    """Show (or save to ``path``) ``images`` in a ``rows x cols`` grid of ``scale``-inch cells.

    Pixels are mapped from ``value_range`` to ``[0, 255]`` and shown as ``uint8``; titles read
    ``"Label: <name>  Pred: <name>"`` from ``label_map`` when ``y_true`` / ``y_pred`` are given.
    """
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("If `y_true` or `y_pred` are provided, a `label_map` must also be provided.")
    show = path is None if show is None else show
    images = channels_last_batch(images, data_format, "plot_image_gallery")
    y_true = None if y_true is None else to_numpy(y_true).reshape(-1)
    y_pred = None if y_pred is None else to_numpy(y_pred).reshape(-1)
    import matplotlib.pyplot as plt

    rows, cols = _grid(len(images), rows, cols)
    fig = plt.figure(figsize=(cols * scale, rows * scale))
    fig.tight_layout()
    plt.subplots_adjust(wspace=0, hspace=0)
    pixels = scale_to_uint8_range(images, value_range).astype("uint8")
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    for index in range(rows * cols):
        axis = plt.subplot(rows, cols, index + 1)
        axis.axis("off")
        if index >= len(pixels):
            continue
        axis.imshow(pixels[index])
        axis.set_title(_title(index, y_true, y_pred, label_map))
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close()
    elif show:
        plt.show()
        plt.close()
    return None
