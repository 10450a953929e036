"""MelSpectrogram and STFTSpectrogram against float64 NumPy references (numpy.fft, the HTK mel formula)."""
import numpy as np
import pytest
import torch

from cornu.layers.preprocessing.audio.mel_spectrogram import MelSpectrogram, mel_filterbank
from cornu.layers.preprocessing.audio.stft_spectrogram import STFTSpectrogram
from tests.helpers import assert_close, f64, random_array


def _mel(f):
    return 1127.0 * np.log1p(f / 700.0)


def _filterbank(num_mel, bins, rate, low, high):
    """Triangles evenly spaced on the mel scale over the linear bins, peak 1, no weight on DC."""
    linear = _mel(np.linspace(0, rate / 2, bins)[1:])[:, None]
    edges = np.linspace(_mel(low), _mel(high), num_mel + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0, np.minimum((linear - lower) / (center - lower), (upper - linear) / (upper - center)))
    return np.vstack([np.zeros((1, num_mel)), weights])


def _mel_reference(x, fft=64, stride=16, length=None, window="hann", rate=8000, num_mel=10, low=20.0, high=None,
                   db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0):
    x = f64(x)
    length = length or fft
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft // 2, fft // 2)], mode="reflect")
    frames = np.stack([padded[..., i:i + fft] for i in range(0, padded.shape[-1] - fft + 1, stride)], -2)
    w = {"hann": np.hanning(length + 1)[:-1], "hamming": np.hamming(length + 1)[:-1], None: np.ones(length)}[window]
    left = (fft - length) // 2
    w = np.pad(w, (left, fft - length - left))
    spectrum = np.abs(np.fft.rfft(frames * w, axis=-1)) ** mag_exp
    mel = np.swapaxes(spectrum @ _filterbank(num_mel, fft // 2 + 1, rate, low, high or rate // 2), -1, -2)
    if not db:
        return mel
    mel = 10 * np.log10(np.maximum(mel, min_power)) - 10 * np.log10(max(ref_power, min_power))
    return np.maximum(mel, mel.max() - top_db)


def test_mel_filterbank_matches_the_formula():
    for args in [(10, 33, 8000, 100.0, 4000.0), (40, 257, 16000, 20.0, 8000.0), (7, 51, 22050, 0.0, 5000.0)]:
        assert_close(mel_filterbank(*args, dtype=torch.float64), _filterbank(*args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"top_db": 20.0}, {"mag_exp": 1.0}, {"ref_power": 10.0, "min_power": 1e-3},
                                     {"window": "hamming"}, {"window": None}, {"length": 48}, {"length": 41},
                                     {"db": False}, {"low": 300.0, "high": 3000.0, "num_mel": 7}])
def test_mel_spectrogram_matches_numpy(options):
    x = random_array((3, 900), seed=1).astype(np.float64)
    x[1] *= 50
    x[2, :400] = 0
    names = {"length": "sequence_length", "low": "min_freq", "high": "max_freq", "num_mel": "num_mel_bins",
             "db": "power_to_db"}
    kwargs = {names.get(k, k): v for k, v in options.items()}
    kwargs = {"fft_length": 64, "sequence_stride": 16, "sampling_rate": 8000, "num_mel_bins": 10, **kwargs}
    layer = MelSpectrogram(dtype="float64", **kwargs)
    expected = _mel_reference(x, **options)
    out = layer(x)
    assert tuple(out.shape) == expected.shape == tuple(layer.compute_output_shape(x.shape))
    assert_close(out, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    out32 = MelSpectrogram(**kwargs)(x.astype("float32"))
    assert str(out32.dtype) == "torch.float32"
    assert_close(out32, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_mel_spectrogram_config_shapes_and_errors():
    layer = MelSpectrogram(sampling_rate=8001)
    config = layer.get_config()
    assert config["max_freq"] == 4000 and config["sequence_length"] == 2048
    assert MelSpectrogram.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, 16000)) == (None, 128, 32)
    assert tuple(MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256)(
        np.zeros(16000, "float32")).shape) == (64, 63)
    with pytest.raises(ValueError, match="200"):
        MelSpectrogram(fft_length=100, sequence_length=200)
    assert layer.weights == []


def _frames(x, length, step, padding):
    """Frames ``(batch, frames, length, channels)`` of channels-last signals, Keras's "same" padding."""
    samples = x.shape[1]
    if padding == "same":
        n = -(-samples // step)
        total = max((n - 1) * step + length - samples, 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    count = (x.shape[1] - length) // step + 1
    return np.stack([x[:, i * step:i * step + length] for i in range(count)], 1)


def _spectrum(x, length, step, fft, window, scaling, padding="valid"):
    frames = _frames(f64(x), length, step, padding)
    w = window if window is not None else np.ones(length)
    if scaling == "density":
        w = w / np.sqrt(np.sum(w * w))
    elif scaling == "spectrum":
        w = w / np.sum(w)
    return np.fft.rfft(frames * w[:, None], n=fft, axis=2)  # (batch, frames, bins, channels)


def _merge(part):
    """(batch, frames, bins, channels) -> (batch, frames, channels * bins), channel-major."""
    b, t, f, c = part.shape
    return np.transpose(part, (0, 1, 3, 2)).reshape(b, t, c * f)


@pytest.mark.parametrize("window,scaling,name", [(None, None, None), (np.hanning(8), "density", "hann"),
                                                 (np.hamming(8), "spectrum", "hamming")])
def test_stft_modes_match_numpy_fft(window, scaling, name):
    x = random_array((2, 37, 3), seed=2)
    z = _spectrum(x, 8, 3, 16, window, scaling)
    make = lambda mode, **k: STFTSpectrogram(mode=mode, frame_length=8, frame_step=3, fft_length=16,  # noqa: E731
                                             window=name, scaling=scaling, **k)
    assert_close(make("real")(x), _merge(z.real), atol=1e-5)
    assert_close(make("imag")(x), _merge(z.imag), atol=1e-5)
    stft = np.concatenate([np.transpose(z.real, (0, 1, 3, 2)), np.transpose(z.imag, (0, 1, 3, 2))], -1)
    assert_close(make("stft")(x), stft.reshape(2, z.shape[1], -1), atol=1e-5)
    power = np.abs(z) ** 2
    assert_close(make("magnitude")(x), _merge(np.sqrt(np.maximum(power, 1e-7))), atol=1e-5)
    assert_close(make("log")(x), _merge(0.5 * np.log(np.maximum(power, 1e-7))), rtol=1e-4, atol=1e-4)
    one_sided = power.copy()
    one_sided[:, :, 1:-1] *= 2
    assert_close(make("psd")(x), _merge(one_sided), rtol=1e-5, atol=1e-5)
    inner = _merge(np.angle(z)[:, :, 1:-1])
    angle = f64(make("angle")(x)).reshape(2, z.shape[1], 3, 9)[..., 1:-1].reshape(inner.shape)
    assert_close(angle, inner, atol=1e-4)


def test_stft_padding_layouts_and_defaults():
    x = random_array((2, 50, 2), seed=3)
    z = _spectrum(x, 8, 3, 8, None, None, padding="same")
    power = np.maximum(np.abs(z) ** 2, 1e-7)
    layer = STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=3, window=None, scaling=None, padding="same",
                            expand_dims=True)
    out = layer(x)
    assert z.shape[1] == 17 and tuple(out.shape) == (2, 17, 5, 2) == layer.compute_output_shape(x.shape)
    assert_close(out, np.sqrt(power), atol=1e-5)
    xc = np.transpose(x, (0, 2, 1)).copy()
    first = STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=3, window=None, scaling=None,
                            padding="same", data_format="channels_first")
    assert_close(first(xc), np.transpose(_merge(np.sqrt(power)), (0, 2, 1)), atol=1e-5)
    default = STFTSpectrogram(frame_length=100)
    assert tuple(default(random_array((1, 400, 1))).shape) == (1, 7, 65)  # step 50, fft 128
    assert default.get_config()["frame_step"] is None and default.get_config()["fft_length"] is None


def test_stft_kernels_are_trainable_keras_layout_weights():
    layer = STFTSpectrogram(mode="log", frame_length=8, fft_length=8)
    x = torch.tensor(random_array((2, 40, 1), seed=4))
    layer(x).sum().backward()
    names = [w.name for w in layer.trainable_weights]
    assert names == ["real_kernel", "imag_kernel"]
    assert all(w.value.grad is not None for w in layer.trainable_weights)
    real, imag = layer.get_weights()
    n, k = np.arange(8)[:, None], np.arange(5)[None]
    hann = np.hanning(8) / np.sqrt(np.sum(np.hanning(8) ** 2))
    assert_close(real[:, 0], hann[:, None] * np.cos(2 * np.pi * n * k / 8), atol=1e-6)
    assert_close(imag[:, 0], -hann[:, None] * np.sin(2 * np.pi * n * k / 8), atol=1e-6)
    layer.set_weights([real * 2, imag * 2])
    assert_close(layer.get_weights()[0], real * 2)
    real_only = STFTSpectrogram(mode="real", frame_length=8)
    real_only.build((None, 40, 1))
    assert [w.name for w in real_only.weights] == ["real_kernel"]


def test_stft_named_windows():
    x = random_array((1, 30, 1), seed=5)
    for name, window in [("blackman", np.blackman(8)), ("bartlett", np.bartlett(8)), ("boxcar", np.ones(8))]:
        out = STFTSpectrogram(mode="real", frame_length=8, window=name, scaling=None)(x)
        assert_close(out, _merge(_spectrum(x, 8, 4, 8, window, None).real), atol=1e-5)


@pytest.mark.parametrize("kwargs,error", [({"mode": "x"}, ValueError), ({"scaling": "x"}, ValueError),
                                          ({"padding": "x"}, ValueError), ({"frame_step": 300}, ValueError),
                                          ({"fft_length": 4}, ValueError), ({"window": "nope"}, ValueError)])
def test_stft_argument_errors(kwargs, error):
    with pytest.raises(error, match=str(list(kwargs.values())[0])):
        STFTSpectrogram(**kwargs)


def test_stft_input_errors():
    with pytest.raises(TypeError, match="int32"):
        STFTSpectrogram(frame_length=8)(np.zeros((2, 40, 1), "int32"))
    with pytest.raises(ValueError):
        STFTSpectrogram(frame_length=8)(np.zeros((2, 40), "float32"))


def test_stft_weights_file_round_trip(tmp_path):
    import cornu

    def build():
        return cornu.Sequential([cornu.Input((60, 2)), STFTSpectrogram(mode="stft", frame_length=16, frame_step=8)])

    source, target = build(), build()
    source.layers[0].set_weights([w * 3 + 1 for w in source.layers[0].get_weights()])
    source.save_weights(tmp_path / "s.weights.h5")
    target.load_weights(tmp_path / "s.weights.h5")
    x = random_array((2, 60, 2), seed=6)
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_spectrograms_make_no_host_sync_on_cuda():
    from tests.helpers import no_host_sync

    x = torch.tensor(random_array((2, 4000), seed=7), device="cuda")
    mel = MelSpectrogram(fft_length=256, sequence_stride=64, num_mel_bins=32)
    stft = STFTSpectrogram(mode="log", frame_length=128, padding="same")
    mel(x), stft(x[..., None])
    with no_host_sync():
        out_mel, out_stft = mel(x), stft(x[..., None])
    assert_close(out_mel.cpu(), _mel_reference(x.cpu(), fft=256, stride=64, num_mel=32, rate=16000), rtol=1e-4,
                 atol=1e-3)
    assert out_stft.device.type == "cuda"
