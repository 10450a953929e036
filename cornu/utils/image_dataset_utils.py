"""``keras.utils.image_dataset_from_directory``: a folder of images as a cornu ``Dataset`` of batches.

Files are indexed as Keras indexes them (same order, labels and split for the
same seed). Decoding (Pillow) and resizing run in ``DataLoader`` worker
processes. A file whose header is not an image's is left out at indexing time,
one warning naming them all; one that fails to decode later is dropped from its
batch with a warning, never an error mid-epoch.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import torch

from cornu.utils import dataset_utils
from cornu.utils.dataset import Dataset, Skipped, _SourceDataset, collate
from cornu.utils.image_utils import (RESIZE_INTERPOLATION, _data_format, _pil, convert_mode, fit_aspect,
                                     resize_images)

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def _bad_header(path: str) -> str | None:
    """Why ``path`` is not an image file (unreadable, or no image signature), or None when it looks like one."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        return f"unreadable: {e.strerror or e}"
    return None if head.startswith(_SIGNATURES) else "not an image"


class ImageSource:
    """Decodes and resizes one image per index (run in the loader's workers); labels are already encoded."""

    def __init__(self, paths: list[str], labels: np.ndarray | None, color_mode: str, image_size: tuple[int, int],
                 interpolation: str, crop_to_aspect_ratio: bool, pad_to_aspect_ratio: bool, data_format: str):
        self.paths, self.labels = paths, labels
        self.color_mode, self.image_size, self.interpolation = color_mode, tuple(image_size), interpolation
        self.crop, self.pad, self.channels_first = crop_to_aspect_ratio, pad_to_aspect_ratio, \
            data_format == "channels_first"

    def __len__(self) -> int:
        return len(self.paths)

    def decode(self, i: int) -> Any:
        """The i-th image as uint8 ``(H, W, C)``, cut or padded to the aspect ratio, not yet resized (+ label)."""
        try:
            with _pil().open(self.paths[i]) as img:
                if img.mode.startswith("I"):  # 16/32-bit grayscale to 8 bits first, as TensorFlow's uint8 decode
                    wide = np.array(img)
                    narrow = (wide >> 8) if img.mode.startswith("I;16") else np.clip(wide, 0, 255)
                    img = _pil().fromarray(narrow.astype(np.uint8), "L")
                x = np.array(convert_mode(img, self.color_mode))
        except Exception as e:  # a corrupt file is reported and left out, not raised in a worker
            return Skipped(self.paths[i], f"{type(e).__name__}: {e}")
        if x.ndim == 2:
            x = x[:, :, None]
        x = fit_aspect(x, self.image_size, self.crop, self.pad)
        return x if self.labels is None else (x, self.labels[i])

    batch_item = decode

    def finish(self, images: torch.Tensor) -> torch.Tensor:
        """Resize a batch of same-sized decoded images (one kernel call) and lay it out as ``data_format``."""
        out = resize_images(images, self.image_size, self.interpolation)
        return out.permute(0, 3, 1, 2).contiguous() if self.channels_first else out

    def __getitem__(self, i: int) -> Any:
        sample = self.decode(i)
        if isinstance(sample, Skipped):
            return sample
        image = sample if self.labels is None else sample[0]
        image = self.finish(torch.from_numpy(image)[None])[0].numpy()
        return image if self.labels is None else (image, sample[1])

    def collate(self, samples: list) -> Any:
        """Stack decoded samples, resizing each run of same-sized images in one call."""
        images = [s if self.labels is None else s[0] for s in samples]
        if all(im.shape == images[0].shape for im in images):
            batch = self.finish(torch.stack(images))
        else:
            batch = torch.cat([self.finish(im[None]) for im in images])
        return batch if self.labels is None else (batch, collate([s[1] for s in samples]))


def image_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: str | None = "int",
                                 class_names: Sequence[str] | None = None, color_mode: str = "rgb",
                                 batch_size: int | None = 32, image_size: tuple[int, int] = (256, 256),
                                 shuffle: bool = True, seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False, data_format: str | None = None,
                                 format: str = "torch", verbose: bool = True, *,
                                 num_workers: int | None = None) -> Dataset | tuple[Dataset, Dataset]:
    """A ``Dataset`` of ``(images, labels)`` batches (images alone when ``label_mode`` is None) from a folder.

    Images are float32 in [0, 255], ``(batch, height, width, channels)`` for ``channels_last``; labels are
    int32 (``"int"``), float32 one-hot (``"categorical"``) or float32 ``(batch, 1)`` (``"binary"``).
    ``subset="both"`` returns ``(training, validation)``. ``format="tf"`` returns the same batches as a
    ``tf.data.Dataset`` (TensorFlow required). ``num_workers`` (cornu's): decoding processes
    (default: half the CPUs, at most 8; 0 decodes in the main process).
    """
    dataset_utils.check_format(format)
    dataset_utils.check_label_args(labels, label_mode, "image")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in _CHANNELS:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: '
                         f"color_mode={color_mode}")
    if interpolation not in RESIZE_INTERPOLATION:
        raise ValueError(f"Argument `interpolation` should be one of {RESIZE_INTERPOLATION}. Received: "
                         f"interpolation={interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be `True`.")
    data_format = _data_format(data_format)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_list, class_names = dataset_utils.index_directory(
        directory, labels, formats=ALLOWLIST_FORMATS, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    dataset_utils.check_binary(label_mode, class_names)
    if not paths:
        raise ValueError(f"No images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}")
    bad = [(p, why) for p in paths if (why := _bad_header(p)) is not None]
    if bad:
        warnings.warn(f"Skipping {len(bad)} file(s) that are not readable images: "
                      + "; ".join(f"{p} ({why})" for p, why in bad), stacklevel=2)
        keep = [i for i, p in enumerate(paths) if p not in {b for b, _ in bad}]
        paths = [paths[i] for i in keep]
        label_list = None if label_list is None else [label_list[i] for i in keep]
        if not paths:
            raise ValueError(f"No images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}")
    workers = dataset_utils.default_num_workers() if num_workers is None else int(num_workers)
    num_classes = len(class_names) if class_names else 0

    def build(subset_paths: list, subset_labels: Any, is_training: bool) -> Dataset:
        encoded = dataset_utils.encode_labels(subset_labels, label_mode, num_classes)
        source = ImageSource(list(subset_paths), encoded, color_mode, image_size, interpolation,
                             crop_to_aspect_ratio, pad_to_aspect_ratio, data_format)
        ds = _SourceDataset(source, batch_size=batch_size, shuffle=shuffle and is_training, seed=seed,
                            num_workers=workers)
        ds.class_names, ds.file_paths = class_names, list(subset_paths)
        return ds

    result = dataset_utils.split_subsets(build, paths, label_list, validation_split, subset, verbose)
    return dataset_utils.in_format(result, format)
