"""``ImageAugmentation``: the base of the random image layers.

As in Keras, augmentation runs unless the call is told ``training=False`` (explicitly or by
an enclosing call such as ``predict``): calling the layer on its own, with no training flag
anywhere, augments. Each call draws one batch of parameters from the layer's own generator
(when ``seed`` is given) and transforms the whole batch in one fused operation.

Inputs may also be Keras's dicts: ``{"images", "labels", "segmentation_masks", "bounding_boxes":
{"boxes", "labels"}}`` (any subset with ``"images"``), returned with the same keys. Images take the
tensor path; labels pass through; masks and boxes go through ``transform_segmentation_masks`` and
``transform_bounding_boxes`` with the parameters drawn for the images (``draw`` then ``apply``),
which pass them through unchanged unless a (geometric) subclass overrides them; a layer that only
implements ``augment`` refuses masks and boxes rather than leave them misaligned. Boxes are in
``bounding_box_format`` (required when boxes are given) and handled here as absolute ``xyxy``.
"""
from __future__ import annotations

import torch

from cornu import symbolic
from cornu.layers import layer as layer_module
from cornu.layers.preprocessing.image.resizing import check_image_rank
from cornu.layers.regularization import SeededLayer
from cornu.utils import conv_utils
from cornu.utils.bounding_boxes import convert_format


class ImageAugmentation(SeededLayer):
    """A seeded layer on channels-last (or channels-first) images, 3-D or batched 4-D."""

    def __init__(self, seed=None, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.bounding_box_format = bounding_box_format
        self.supports_masking = False

    def __call__(self, *args, **kwargs):
        stack = layer_module._CALL_STACK
        if kwargs.get("training") is None and (not stack or stack[-1].training is None) and \
                not symbolic.is_symbolic(*args, **kwargs):
            kwargs["training"] = True  # a concrete call with no training flag anywhere (never recorded in graphs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        check_image_rank(inputs)
        dtype = self._compute_torch_dtype or torch.float32
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        if not training:
            return x
        single = x.ndim == 3
        x = x.unsqueeze(0) if single else x
        y = self.augment(conv_utils.to_channels_first(x, self.data_format))
        y = conv_utils.to_channels_last(y, self.data_format)
        return y[0] if single else y

    def _call_dict(self, inputs: dict, training) -> dict:
        """Keras's dict inputs: one draw shared by the images, their masks and their boxes."""
        if "images" not in inputs:
            raise ValueError(f"Expected a dict input with an 'images' key. Received keys: {list(inputs)}")
        if "bounding_boxes" in inputs and self.bounding_box_format is None:
            raise ValueError("You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding "
                             f"box format. Pass `bounding_box_format` to the layer {self.name}.")
        images = _tensor(inputs["images"])
        data = {key: (value if key == "images" else _tensors(value, images.device)) for key, value in inputs.items()}
        check_image_rank(images)
        dtype = self._compute_torch_dtype or torch.float32
        x = images if images.dtype == dtype else images.to(dtype)
        if not training:
            data["images"] = x
            return data
        single = x.ndim == 3
        nchw = conv_utils.to_channels_first(x.unsqueeze(0) if single else x, self.data_format)
        if self._draws_parameters():
            params = self.draw(nchw)
            y = self.apply(nchw, params)
        elif "segmentation_masks" in inputs or "bounding_boxes" in inputs:
            raise NotImplementedError(f"{type(self).__name__} does not transform segmentation masks or bounding "
                                      "boxes yet (it has no `draw`/`apply`); pass only images and labels.")
        else:
            params, y = None, self.augment(nchw)
        y = conv_utils.to_channels_last(y, self.data_format)
        data["images"] = y[0] if single else y
        if "segmentation_masks" in inputs:
            masks = data["segmentation_masks"]
            m = conv_utils.to_channels_first(masks.unsqueeze(0) if single else masks, self.data_format)
            m = conv_utils.to_channels_last(self.transform_segmentation_masks(m, params), self.data_format)
            data["segmentation_masks"] = m[0] if single else m
        if "bounding_boxes" in inputs:
            data["bounding_boxes"] = self._boxes(data["bounding_boxes"], params, nchw.shape, single, images.device)
        return data

    def _boxes(self, boxes: dict, params, shape: torch.Size, single: bool, device: torch.device) -> dict:
        """The ``{"boxes", "labels"}`` dict through ``transform_bounding_boxes`` in absolute ``xyxy``."""
        out = dict(boxes)
        h, w = shape[-2], shape[-1]
        b = _tensor(boxes["boxes"], device)
        b = b if b.dtype.is_floating_point else b.to(torch.float32)
        labels = _tensor(boxes["labels"], device) if "labels" in boxes else None
        b = b.unsqueeze(0) if single else b
        labels = labels.unsqueeze(0) if single and labels is not None else labels
        xyxy = convert_format(b, self.bounding_box_format, "xyxy", height=h, width=w)
        xyxy, labels, (out_h, out_w) = self.transform_bounding_boxes(xyxy, labels, params, h, w)
        b = convert_format(xyxy, "xyxy", self.bounding_box_format, height=out_h, width=out_w)
        out["boxes"] = b[0] if single else b
        if labels is not None:
            out["labels"] = labels[0] if single else labels
        return out

    def _draws_parameters(self) -> bool:
        return type(self).draw is not ImageAugmentation.draw

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """The random transform of an NCHW batch (by default: ``apply`` of one ``draw``)."""
        return self.apply(x, self.draw(x))

    def draw(self, x: torch.Tensor):
        """The random parameters of one call on the NCHW batch ``x`` (reused for its masks and boxes)."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, params) -> torch.Tensor:
        """The transform of the NCHW batch ``x`` by drawn ``params``."""
        raise NotImplementedError

    def transform_segmentation_masks(self, masks: torch.Tensor, params) -> torch.Tensor:
        """Segmentation masks (NCHW) under the images' transform: unchanged unless the layer moves pixels."""
        return masks

    def transform_bounding_boxes(self, boxes: torch.Tensor, labels, params, height: int, width: int):
        """``(n, k, 4)`` absolute ``xyxy`` boxes and their labels under the images' transform, and the output size."""
        return boxes, labels, (height, width)

    def uniform(self, shape: tuple, low, high, device: torch.device) -> torch.Tensor:
        """Uniform draws in ``[low, high)`` (float32) from the layer's generator."""
        u = torch.rand(shape, generator=self._rng(device), device=device)
        return low + (high - low) * u

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def _tensors(value, device: torch.device):
    """Every array of a (possibly nested) dict input as a tensor on ``device``, as Keras returns them."""
    if isinstance(value, dict):
        return {key: _tensors(v, device) for key, v in value.items()}
    return _tensor(value, device) if isinstance(value, torch.Tensor) or hasattr(value, "__array__") else value


def _tensor(value, device: torch.device | None = None) -> torch.Tensor:
    t = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    return t if device is None or t.device == device else t.to(device)
