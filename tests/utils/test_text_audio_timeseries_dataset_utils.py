"""text/audio_dataset_from_directory, timeseries_dataset_from_array and split_dataset.

Keras builds these on tf.data (or Grain), which this venv lacks, so the checks are
against NumPy references and Keras's documented behaviour; the shared directory
indexing is compared with Keras's in test_image_dataset_utils.py.
"""
import os
import wave

import numpy as np
import pytest
import torch

import cornu as keras
from cornu.utils import Dataset
from tests.helpers import assert_close, seeded


def write_wav(path, samples, rate=8000, width=2):
    """Integer PCM; ``samples`` is (n, channels) in [-1, 1)."""
    scale = float(1 << (8 * width - 1))
    ints = np.round(samples * scale).clip(-scale, scale - 1).astype(f"<i{width}")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(ints.tobytes())
    return ints.astype("float64") / scale


def make_text_tree(root):
    texts = {}
    for name, words in (("neg", ["bad", "awful movie"]), ("pos", ["good", "great fun", "fine"])):
        os.makedirs(root / name)
        for i, text in enumerate(words):
            path = root / name / f"{i}.txt"
            path.write_text(text)
            texts[str(path)] = text
    (root / "pos" / "skip.md").write_text("not listed")
    return texts


def test_text_dataset_labels_strings_and_max_length(tmp_path, capsys):
    texts = make_text_tree(tmp_path)
    ds = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=3, shuffle=False)
    assert capsys.readouterr().out == "Found 5 files belonging to 2 classes.\n"
    assert ds.class_names == ["neg", "pos"] and len(ds) == 2
    (x1, y1), (x2, y2) = list(ds)
    assert list(x1) + list(x2) == [texts[p] for p in ds.file_paths]
    assert y1.dtype == torch.int32 and torch.cat([y1, y2]).tolist() == [0, 0, 1, 1, 1]
    short = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=5, shuffle=False, max_length=3,
                                                    label_mode=None, verbose=False)
    assert list(next(iter(short))) == [texts[p][:3] for p in short.file_paths]
    cat = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=5, label_mode="categorical",
                                                  verbose=False, seed=0)
    assert next(iter(cat))[1].shape == (5, 2)


def test_text_dataset_split_and_errors(tmp_path):
    make_text_tree(tmp_path / "data")
    train, val = keras.utils.text_dataset_from_directory(str(tmp_path / "data"), validation_split=0.4,
                                                         subset="both", seed=1, verbose=False)
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No text files found in directory .*empty"):
        keras.utils.text_dataset_from_directory(str(tmp_path / "empty"), verbose=False)
    with pytest.raises(ValueError, match="`subset`"):
        keras.utils.text_dataset_from_directory(str(tmp_path / "data"), subset="validation", verbose=False)
    with pytest.raises(ValueError, match="format"):
        keras.utils.text_dataset_from_directory(str(tmp_path / "data"), format="grain2", verbose=False)
    assert keras.preprocessing.text_dataset_from_directory is keras.utils.text_dataset_from_directory


def make_audio_tree(root):
    clips = {}
    rng = seeded(0)
    for name, lengths in (("no", [50, 80]), ("yes", [30])):
        os.makedirs(root / name)
        for i, n in enumerate(lengths):
            path = root / name / f"{i}.wav"
            clips[str(path)] = write_wav(path, rng.uniform(-0.9, 0.9, (n, 1)))
    return clips


def test_audio_dataset_decodes_and_pads(tmp_path):
    clips = make_audio_tree(tmp_path)
    ds = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=3, shuffle=False, verbose=False)
    x, y = next(iter(ds))
    assert ds.class_names == ["no", "yes"] and y.tolist() == [0, 0, 1]
    assert x.shape == (3, 80, 1) and x.dtype == torch.float32
    for row, path in zip(x.numpy(), ds.file_paths):
        ref = clips[path]
        assert_close(row[:len(ref)], ref)
        assert not row[len(ref):].any()
    fixed = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=3, shuffle=False, verbose=False,
                                                     output_sequence_length=40)
    x, _ = next(iter(fixed))
    assert x.shape == (3, 40, 1)
    assert_close(x[0], clips[fixed.file_paths[0]][:40])
    ragged = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=3, shuffle=False, verbose=False,
                                                      ragged=True)
    assert [len(c) for c in next(iter(ragged))[0]] == [50, 80, 30]


def test_audio_stereo_8bit_and_resampling(tmp_path):
    os.makedirs(tmp_path / "a")
    stereo = write_wav(tmp_path / "a" / "s.wav", seeded(1).uniform(-0.5, 0.5, (20, 2)), width=2)
    ds = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=None, verbose=False, shuffle=False)
    audio, label = next(iter(ds))
    assert audio.shape == (20, 2) and int(label) == 0
    assert_close(audio, stereo)
    resampled = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=None, verbose=False,
                                                         shuffle=False, sampling_rate=4000)
    assert next(iter(resampled))[0].shape == (10, 2)


def test_audio_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No audio files found in directory .*empty"):
        keras.utils.audio_dataset_from_directory(str(tmp_path / "empty"), verbose=False)
    make_audio_tree(tmp_path / "data")
    with pytest.raises(ValueError, match="ragged"):
        keras.utils.audio_dataset_from_directory(str(tmp_path / "data"), ragged=True, output_sequence_length=4)
    (tmp_path / "data" / "no" / "bad.wav").write_bytes(b"RIFF0000")
    ds = keras.utils.audio_dataset_from_directory(str(tmp_path / "data"), batch_size=4, shuffle=False,
                                                  verbose=False)
    with pytest.warns(UserWarning, match="bad.wav"):
        assert sum(len(y) for _, y in ds) == 3


def windows_reference(data, targets, length, stride, rate, start, end):
    """Keras's documented windows: starts start, start+stride, ...; steps `rate` apart; target at the start."""
    end = len(data) if end is None else end
    xs, ys, i = [], [], start
    while i + (length - 1) * rate < end and (targets is None or i - start < len(targets)):
        xs.append(data[i:i + (length - 1) * rate + 1:rate])
        if targets is not None:
            ys.append(targets[i])
        i += stride
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("length,stride,rate,start,end,batch", [
    (10, 3, 2, None, None, 7), (5, 1, 1, 4, 60, 16), (3, 5, 3, 10, None, None), (99, 1, 1, None, None, 4)])
def test_timeseries_windows_match_numpy(length, stride, rate, start, end, batch):
    data = np.arange(99 * 2, dtype="float32").reshape(99, 2)
    targets = np.arange(99) * 10
    ds = keras.utils.timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                                   sampling_rate=rate, batch_size=batch, start_index=start,
                                                   end_index=end)
    ref_x, ref_y = windows_reference(data, targets, length, stride, rate, start or 0, end)
    elements = list(ds.as_numpy_iterator())
    xs = np.concatenate([e[0] for e in elements]) if batch else np.stack([e[0] for e in elements])
    ys = np.concatenate([e[1] for e in elements]) if batch else np.stack([e[1] for e in elements])
    assert_close(xs, ref_x)
    assert_close(ys, ref_y)
    assert len(ds) == (-(-len(ref_x) // batch) if batch else len(ref_x))
    if batch:
        assert elements[0][0].shape[0] == min(batch, len(ref_x))


def test_timeseries_documented_example_and_shuffle():
    ds = keras.utils.timeseries_dataset_from_array(np.arange(99), None, 10, sequence_stride=3, sampling_rate=2,
                                                   batch_size=100)
    x = next(iter(ds)).numpy()
    assert x[0].tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert x[1].tolist() == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert x[-1].tolist() == [78, 80, 82, 84, 86, 88, 90, 92, 94, 96]
    shuffled = keras.utils.timeseries_dataset_from_array(np.arange(99), np.arange(99), 10, sequence_stride=3,
                                                         sampling_rate=2, batch_size=100, shuffle=True, seed=4)
    sx, sy = next(iter(shuffled))
    assert sorted(sy.tolist()) == list(range(0, 79, 3)) and sy.tolist() != sorted(sy.tolist())
    assert (sx[:, 0] == sy).all()


def test_timeseries_errors():
    data = np.zeros((10, 1))
    with pytest.raises(ValueError, match="sampling_rate"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)
    with pytest.raises(ValueError, match="start_index"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, start_index=20)
    with pytest.raises(ValueError, match="sequence_stride"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, sequence_stride=10)
    assert keras.preprocessing.timeseries_dataset_from_array is keras.utils.timeseries_dataset_from_array


def test_split_dataset_sizes_order_and_shuffle():
    x = np.arange(10)
    left, right = keras.utils.split_dataset(x, left_size=0.7)
    assert [int(v) for v in left.as_numpy_iterator()] == list(range(7))
    assert [int(v) for v in right.as_numpy_iterator()] == [7, 8, 9]
    left, right = keras.utils.split_dataset((x, x * 2), right_size=3, shuffle=True, seed=1)
    lv = [int(a) for a, _ in left.as_numpy_iterator()]
    rv = [int(a) for a, _ in right.as_numpy_iterator()]
    assert len(lv) == 7 and sorted(lv + rv) == list(range(10)) and lv != list(range(7))
    assert all(int(b) == 2 * int(a) for a, b in left.as_numpy_iterator())
    assert len(left.batch(4)) == 2
    ds_left, ds_right = keras.utils.split_dataset(Dataset.from_tensor_slices(x).batch(2), left_size=3)
    assert len(list(ds_left)) == 3 and len(list(ds_right)) == 2
    tl, tr = keras.utils.split_dataset(torch.utils.data.TensorDataset(torch.arange(4)), left_size=0.5)
    assert [int(v[0]) for v in tl] == [0, 1]


def test_split_dataset_errors_match_keras(keras_ref):
    x = np.arange(10)
    for kwargs, error in [({}, ValueError), ({"left_size": 1.5}, ValueError), ({"left_size": 20}, ValueError),
                          ({"left_size": "a"}, TypeError), ({"left_size": 8, "right_size": 5}, ValueError)]:
        with pytest.raises(error) as ours:
            keras.utils.split_dataset(x, **kwargs)
        with pytest.raises(error) as theirs:
            keras_ref.utils.split_dataset(x, preferred_backend="torch", **kwargs)
        assert str(ours.value).strip() == str(theirs.value).strip()


def test_format_tf_needs_tensorflow(tmp_path):
    make_text_tree(tmp_path)
    calls = [lambda: keras.utils.text_dataset_from_directory(str(tmp_path), format="tf", verbose=False),
             lambda: keras.utils.timeseries_dataset_from_array(np.arange(10), None, 3, format="tf")]
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        for call in calls:
            with pytest.raises(ImportError, match="tensorflow"):
                call()
    else:
        for call in calls:
            assert type(call()).__module__.startswith("tensorflow")
    with pytest.raises(ValueError, match="format"):
        keras.utils.timeseries_dataset_from_array(np.arange(10), None, 3, format="grain2")


def test_directory_errors_match_keras(tmp_path, keras_ref):
    (tmp_path / "empty").mkdir()
    make_audio_tree(tmp_path / "audio")
    cases = [("text_dataset_from_directory", str(tmp_path / "empty"), {}),
             ("audio_dataset_from_directory", str(tmp_path / "empty"), {}),
             ("audio_dataset_from_directory", str(tmp_path / "audio"), {"ragged": True, "output_sequence_length": 3}),
             ("text_dataset_from_directory", str(tmp_path / "audio"), {"label_mode": "sparse"})]
    for name, directory, kwargs in cases:
        with pytest.raises(ValueError) as theirs:
            getattr(keras_ref.utils, name)(directory, verbose=False, **kwargs)
        with pytest.raises(ValueError) as ours:
            getattr(keras.utils, name)(directory, verbose=False, **kwargs)
        assert str(ours.value) == str(theirs.value), (name, kwargs)
