"""``keras.utils.audio_dataset_from_directory``: a folder of ``.wav`` files as a cornu ``Dataset``.

Audio is float32 ``(samples, channels)`` in [-1, 1] as ``tf.audio.decode_wav``
gives it, read with ``soundfile`` when installed, else the standard library's
``wave`` (integer PCM). Batches are zero-padded to their longest clip, or cut
and padded to ``output_sequence_length``.
"""
from __future__ import annotations

import wave
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cornu.utils import dataset_utils
from cornu.utils.dataset import Dataset, Skipped, _SourceDataset, collate

ALLOWLIST_FORMATS = (".wav",)


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """``(audio, sampling_rate)``: float32 ``(samples, channels)`` scaled to [-1, 1)."""
    try:
        import soundfile
    except ImportError:
        soundfile = None
    if soundfile is not None:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        return audio, int(rate)
    with wave.open(path, "rb") as w:
        channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(frames)
    if width == 1:
        audio = (np.frombuffer(raw, dtype=np.uint8).astype("float32") - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16))
        audio = (np.where(ints >= 1 << 23, ints - (1 << 24), ints)).astype("float32") / float(1 << 23)
    elif width in (2, 4):
        audio = np.frombuffer(raw, dtype=f"<i{width}").astype("float32") / float(1 << (8 * width - 1))
    else:
        raise ValueError(f"Unsupported WAV sample width of {width} bytes in {path}.")
    return audio.reshape(-1, channels), rate


class AudioSource:
    """Reads one clip per index, resampled to ``sampling_rate`` and cut to ``output_sequence_length`` if set."""

    def __init__(self, paths: list[str], labels: np.ndarray | None, sampling_rate: int | None,
                 output_sequence_length: int | None, ragged: bool):
        self.paths, self.labels = paths, labels
        self.sampling_rate, self.length, self.ragged = sampling_rate, output_sequence_length, ragged

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Any:
        try:
            audio, rate = read_wav(self.paths[i])
        except Exception as e:  # reported and left out by the loader
            return Skipped(self.paths[i], f"{type(e).__name__}: {e}")
        if self.sampling_rate and rate != self.sampling_rate and len(audio):
            n = max(1, round(len(audio) * self.sampling_rate / rate))
            t = torch.from_numpy(np.ascontiguousarray(audio.T))[None]
            audio = F.interpolate(t, size=n, mode="linear", align_corners=False)[0].T.numpy()
        if self.length is not None:
            audio = audio[:self.length]
        return audio if self.labels is None else (audio, self.labels[i])

    def collate(self, samples: list) -> Any:
        """Zero-pad the clips to a common length (``ragged``: a list of clips of their own lengths)."""
        with_labels = self.labels is not None
        clips = [s[0] if with_labels else s for s in samples]
        if self.ragged:
            batch_audio: Any = list(clips)
        else:
            length = self.length if self.length is not None else max(c.shape[0] for c in clips)
            batch_audio = torch.zeros((len(clips), length, clips[0].shape[1]), dtype=torch.float32)
            for j, c in enumerate(clips):
                batch_audio[j, :c.shape[0]] = c
        if not with_labels:
            return batch_audio
        return batch_audio, collate([s[1] for s in samples])


def audio_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: str | None = "int",
                                 class_names: Sequence[str] | None = None, batch_size: int | None = 32,
                                 sampling_rate: int | None = None, output_sequence_length: int | None = None,
                                 ragged: bool = False, shuffle: bool = True, seed: int | None = None,
                                 validation_split: float | None = None, subset: str | None = None,
                                 follow_links: bool = False, verbose: bool = True, *,
                                 num_workers: int = 0) -> Dataset | tuple[Dataset, Dataset]:
    """A ``Dataset`` of ``(audio, labels)`` batches from a folder of WAV files.

    Audio batches are float32 ``(batch, samples, channels)``, zero-padded to the longest clip of the batch or
    cut/padded to ``output_sequence_length``; ``ragged=True`` yields a list of unpadded clips instead.
    ``sampling_rate`` resamples (linearly) clips recorded at another rate.
    """
    dataset_utils.check_label_args(labels, label_mode, "audio")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    for name, value in (("sampling_rate", sampling_rate), ("output_sequence_length", output_sequence_length)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ValueError(f"`{name}` should be a positive integer. Received: {name}={value}")
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_list, class_names = dataset_utils.index_directory(
        directory, labels, formats=ALLOWLIST_FORMATS, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    dataset_utils.check_binary(label_mode, class_names)
    if not paths:
        raise ValueError(f"No audio files found in directory {directory}. Allowed format(s): {ALLOWLIST_FORMATS}")
    num_classes = len(class_names) if class_names else 0

    def build(subset_paths: list, subset_labels: Any, is_training: bool) -> Dataset:
        encoded = dataset_utils.encode_labels(subset_labels, label_mode, num_classes)
        source = AudioSource(list(subset_paths), encoded, sampling_rate, output_sequence_length, ragged)
        ds = _SourceDataset(source, batch_size=batch_size, shuffle=shuffle and is_training, seed=seed,
                            num_workers=num_workers)
        ds.class_names, ds.file_paths = class_names, list(subset_paths)
        return ds

    return dataset_utils.split_subsets(build, paths, label_list, validation_split, subset, verbose)
