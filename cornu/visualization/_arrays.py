"""Host-side array helpers shared by the drawing and plotting functions (these run once per figure)."""
from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(x: Any) -> np.ndarray:
    """A tensor (any device), Variable or array-like as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def channels_last_batch(images: Any, data_format: str | None, name: str) -> np.ndarray:
    """``images`` as a ``(batch, height, width, channels)`` NumPy array; ``ValueError`` unless 4-D."""
    from cornu.config import image_data_format

    images = to_numpy(images)
    if images.ndim != 4:
        raise ValueError(f"`{name}()` requires a batched 4D array of images. Received: images.shape="
                         f"{images.shape}")
    if (data_format or image_data_format()) == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    return images


def scale_to_uint8_range(images: np.ndarray, value_range: tuple) -> np.ndarray:
    """Pixel values mapped linearly from ``value_range`` onto ``[0, 255]`` (float; callers cast)."""
    low, high = value_range
    return (images.astype("float64") - low) / (high - low) * 255.0
