"""``RandomRotation``, ``RandomZoom``, ``RandomTranslation``: random affine warps, one batched resample per call.

Each call draws one parameter per image and builds a batch of 2x3 matrices taking output
pixel coordinates (pixel centres at integers) to input coordinates; one resample then warps
the whole batch (``ops.image.warp_affine``: a single ``grid_sample`` for bilinear float images
with ``reflect``/``nearest``/``constant`` fill, gathers otherwise). In Keras's dict inputs the same
matrices warp the segmentation masks (nearest interpolation) and move the boxes' corners.
As in Keras, each of the (1 or 4) neighbouring pixels read is mapped by ``fill_mode`` on its
own: ``reflect`` (d c b a | a b c d | d c b a), ``wrap``, ``nearest`` (edge), or ``constant``
(``fill_value``). ``nearest`` interpolation rounds half to even. Subclasses give ``matrices``;
``RandomShear`` reuses the class.
"""
from __future__ import annotations

import math

import torch

from cornu.layers.preprocessing.image.augmentation import ImageAugmentation
from cornu.ops.image import warp_affine

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _range(value, name: str, low: float, high: float, low_open: bool = False, message: str | None = None):
    """``value`` (a number: ``(-value, value)``; or two numbers) as a sorted ``(lower, upper)`` pair."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        pair = (-abs(value), abs(value))
        check = [value]
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        pair = (min(value), max(value))
        check = list(value)
    else:
        check, pair = None, None
    if check is None or any(v > high or v < low or (low_open and v == low) for v in check):
        raise ValueError(message or f"The `{name}` argument should be a number (or a list of two numbers) in the "
                         f"range [{low}, {high}]. Received: {name}={value}")
    return pair


class _RandomAffine(ImageAugmentation):
    """Shared arguments and the batched warp of the affine augmentations."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed=None, fill_value: float = 0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {FILL_MODES}.")
        if interpolation not in INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {INTERPOLATIONS}.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def matrices(self, n: int, h: int, w: int, device: torch.device) -> torch.Tensor:
        """``(n, 2, 3)`` output-to-input coordinate maps, one random draw per image."""
        raise NotImplementedError

    def draw(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        return self.matrices(n, h, w, x.device)

    def apply(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return warp_affine(x, params, self.interpolation, self.fill_mode, self.fill_value)

    def transform_segmentation_masks(self, masks: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """The images' warp with nearest interpolation, so masks keep their class values."""
        return warp_affine(masks, params, "nearest", self.fill_mode, self.fill_value)

    def transform_bounding_boxes(self, boxes, labels, params, height, width):
        """Corners mapped forward (the inverse of the output-to-input ``params``), enclosed, clipped to the image.

        Boxes left with no area get the label -1, as in Keras.
        """
        m = params.to(torch.float64)
        inverse = torch.linalg.inv(torch.cat([m, m.new_tensor([0.0, 0.0, 1.0]).expand(m.shape[0], 1, 3)], 1))
        x1, y1, x2, y2 = boxes.to(torch.float64).unbind(-1)
        xs = torch.stack([x1, x2, x1, x2], -1)
        ys = torch.stack([y1, y1, y2, y2], -1)
        a = inverse[:, None, None]
        new_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
        new_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
        out = torch.stack([new_x.amin(-1).clamp(0, width), new_y.amin(-1).clamp(0, height),
                           new_x.amax(-1).clamp(0, width), new_y.amax(-1).clamp(0, height)], -1)
        if labels is not None:
            empty = (out[..., 2] <= out[..., 0]) | (out[..., 3] <= out[..., 1])
            labels = torch.where(empty, torch.full_like(labels, -1), labels)
        return out.to(boxes.dtype), labels, (height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}


def _ordered(config: dict, *keys: str) -> dict:
    """``config`` with ``keys`` in that order, plus ``bounding_box_format`` when it is set."""
    out = {k: config[k] for k in keys}
    if "bounding_box_format" in config:
        out["bounding_box_format"] = config["bounding_box_format"]
    return out


def _about_centre(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor, h: int, w: int,
                  shift_x=0.0, shift_y=0.0) -> torch.Tensor:
    """Matrices applying ``[[a, b], [c, d]]`` about the image centre, then shifting by (shift_x, shift_y)."""
    cx, cy = (w - 1) / 2, (h - 1) / 2
    tx = cx - a * cx - b * cy + shift_x
    ty = cy - c * cx - d * cy + shift_y
    return torch.stack([torch.stack([a, b, tx], -1), torch.stack([c, d, ty], -1)], -2)


class RandomRotation(_RandomAffine):
    """Rotates each image by a random angle of ``factor * 2 pi`` (positive: counter-clockwise)."""

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed=None,
                 fill_value: float = 0.0, data_format=None, **kwargs):
        self.factor = _range(factor, "factor", -1, 1, message=(
            "The `factor` argument should be a number (or a list of two numbers) in the range [-1, 1]. "
            f"Received: factor={factor}"))
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def matrices(self, n, h, w, device):
        angle = self.uniform((n,), self.factor[0], self.factor[1], device) * (2 * math.pi)
        cos, sin = torch.cos(angle), torch.sin(angle)
        return _about_centre(cos, -sin, sin, cos, h, w)

    def get_config(self) -> dict:
        config = super().get_config()
        return {**_ordered(config, "name", "trainable", "dtype", "data_format"), "factor": self.factor,
                **{k: config[k] for k in ("fill_mode", "fill_value", "interpolation", "seed")}}


_ZOOM_MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) "
                 "in the range (-1.0, 1.0]. Received: {}={}")


class RandomZoom(_RandomAffine):
    """Zooms each image by ``1 + f`` (``f`` drawn from ``height_factor``; positive: zoom out) about its centre."""

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed=None, fill_value: float = 0.0, data_format=None, **kwargs):
        self._height_range = _range(height_factor, "height_factor", -1.0, 1.0, low_open=True,
                                    message=_ZOOM_MESSAGE.format("height_factor", height_factor))
        self._width_range = None if width_factor is None else _range(
            width_factor, "width_factor", -1.0, 1.0, low_open=True,
            message=_ZOOM_MESSAGE.format("width_factor", width_factor))
        self.height_factor = height_factor
        self.width_factor = width_factor
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def matrices(self, n, h, w, device):
        zoom_h = 1 + self.uniform((n,), *self._height_range, device)
        zoom_w = zoom_h if self._width_range is None else 1 + self.uniform((n,), *self._width_range, device)
        zero = torch.zeros_like(zoom_h)
        return _about_centre(zoom_w, zero, zero, zoom_h, h, w)

    def get_config(self) -> dict:
        config = super().get_config()
        return {**_ordered(config, "name", "trainable", "dtype", "data_format"),
                "height_factor": self.height_factor, "width_factor": self.width_factor,
                **{k: config[k] for k in ("fill_mode", "interpolation", "seed", "fill_value")}}


class RandomTranslation(_RandomAffine):
    """Shifts each image by ``height_factor * height`` rows and ``width_factor * width`` columns (random)."""

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed=None, fill_value: float = 0.0, data_format=None, **kwargs):
        ranges = []
        for value in (height_factor, width_factor):
            bad = isinstance(value, (int, float)) and not -1 <= value <= 1
            message = ("The `factor` argument should be a number (or a list of two numbers) in the range "
                       f"[-1.0, 1.0]. Received: input_number={value}") if bad else None
            ranges.append(_range(value, "factor", -1.0, 1.0, message=message))
        self._height_range, self._width_range = ranges
        self.height_factor = height_factor
        self.width_factor = width_factor
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def matrices(self, n, h, w, device):
        dy = self.uniform((n,), *self._height_range, device) * h
        dx = self.uniform((n,), *self._width_range, device) * w
        one, zero = torch.ones_like(dx), torch.zeros_like(dx)
        return _about_centre(one, zero, zero, one, h, w, -dx, -dy)

    def get_config(self) -> dict:
        config = super().get_config()
        return {**_ordered(config, "name", "trainable", "dtype", "data_format"),
                "height_factor": self.height_factor, "width_factor": self.width_factor,
                **{k: config[k] for k in ("fill_mode", "interpolation", "seed", "fill_value")}}
