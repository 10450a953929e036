"""Geometric and mixing augmentation layers: inference identity, seeding, shapes, statistics, fixed transforms."""
import numpy as np
import pytest
import torch

import cornu
from cornu import layers
from cornu.ops import image
from tests.helpers import assert_close, f64, no_host_sync, random_array

LAYERS = {
    "RandomShear": lambda **kw: layers.RandomShear(0.3, 0.2, **kw),
    "RandomPerspective": lambda **kw: layers.RandomPerspective(**kw),
    "RandomElasticTransform": lambda **kw: layers.RandomElasticTransform(**kw),
    "RandomErasing": lambda **kw: layers.RandomErasing(**kw),
    "RandomGaussianBlur": lambda **kw: layers.RandomGaussianBlur(**kw),
    "MixUp": lambda **kw: layers.MixUp(**kw),
    "CutMix": lambda **kw: layers.CutMix(**kw),
}


def _batch(n=8, h=16, w=16, c=3):
    return random_array((n, h, w, c), low=0, high=255)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_inference_identity_seeding_shape(name):
    x = _batch()
    layer = LAYERS[name](seed=3)
    assert_close(layer(x, training=False), x)
    out = layer(x, training=True)
    assert tuple(out.shape) == x.shape and str(out.dtype) == "torch.float32"
    assert_close(out, LAYERS[name](seed=3)(x, training=True))  # same seed, same draws
    assert np.abs(f64(out) - f64(x)).max() > 0  # training transforms
    assert tuple(LAYERS[name](seed=1)(x[0]).shape) == x.shape[1:]
    assert tuple(layer(np.moveaxis(x, -1, 1), training=False).shape) == (8, 3, 16, 16)


@pytest.mark.parametrize("name", ["RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing",
                                  "RandomGaussianBlur"])
def test_symbolic_shape(name):
    inputs = cornu.Input((16, 12, 3))
    assert LAYERS[name]()(inputs).shape == (None, 16, 12, 3)


def test_random_shear_fixed_factor_matches_affine_transform():
    x = _batch(4, 8, 10, 1)
    out = f64(layers.RandomShear(x_factor=(0.3, 0.3), fill_mode="constant", seed=1)(x))
    candidates = [f64(image.affine_transform(x, np.array([1, s, 0, 0, 1, 0, 0, 0], "float32"), fill_mode="constant"))
                  for s in (0.3, -0.3)]
    for i in range(4):  # each image sheared by +-0.3 about the origin
        assert min(np.abs(c[i] - out[i]).max() for c in candidates) < 1e-4
    config = layers.RandomShear(0.1).get_config()
    assert config["x_factor"] == (-0.1, 0.1)
    assert layers.RandomShear.from_config(config).get_config() == config
    with pytest.raises(ValueError):
        layers.RandomShear(x_factor=1.5)
    with pytest.raises(NotImplementedError):
        layers.RandomShear(0.1, fill_mode="foo")


@pytest.mark.parametrize("name", ["RandomPerspective", "RandomElasticTransform", "RandomErasing",
                                  "RandomGaussianBlur"])
def test_probability_factor(name):
    x = _batch(64, 8, 8, 1)
    extra = {"sigma": (1.0, 1.0)} if name == "RandomGaussianBlur" else {}  # a tiny sigma barely blurs
    never = LAYERS[name](factor=0.0, seed=1, **extra)(x, training=True)
    assert_close(never, x)
    always = f64(LAYERS[name](factor=(1.0, 1.0), seed=1, **extra)(x, training=True))
    assert (np.abs(always - f64(x)).max(axis=(1, 2, 3)) > 1e-3).mean() > 0.9
    half = f64(LAYERS[name](factor=(0.5, 0.5), seed=1, **extra)(x, training=True))
    assert 0.25 < (np.abs(half - f64(x)).max(axis=(1, 2, 3)) > 1e-3).mean() < 0.75


def test_gaussian_blur_fixed_sigma_matches_op():
    x = _batch(4)
    out = layers.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=5, sigma=(0.9, 0.9), seed=0)(x)
    assert_close(out, np.clip(f64(image.gaussian_blur(x, (5, 5), (0.9, 0.9))), 0, 255), atol=1e-3)


def test_erasing_area_and_fill():
    x = _batch(200, 20, 20, 1)
    out = f64(layers.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=300.0, value_range=(0, 255),
                                   seed=0)(x))
    erased = out == 255.0  # the fill, clipped to value_range
    assert_close(erased.mean(axis=(1, 2, 3)), np.full(200, 0.25), atol=0.03)  # a 10 x 10 square (rounding)
    assert (erased.any(axis=2).sum(axis=1) == 10).all()
    assert_close(out[~erased], f64(x)[~erased])
    varied = f64(layers.RandomErasing(factor=(1.0, 1.0), scale=(0.04, 0.36), fill_value=300.0, seed=1)(x)) == 255
    rows, cols = varied.any(axis=2).sum(axis=(1, 2)), varied.any(axis=1).sum(axis=(1, 2))
    assert rows.min() >= 3 and rows.max() <= 13 and (rows != cols).any()  # sqrt(s) of each side, drawn apart
    noisy = f64(layers.RandomErasing(factor=(1.0, 1.0), seed=2)(x))
    assert noisy.min() >= 0 and noisy.max() <= 255


def test_elastic_displacement_is_smooth():
    ramp = np.tile(np.arange(64, dtype="float32")[None, None, :, None], (4, 64, 1, 1))
    out = f64(layers.RandomElasticTransform(factor=(1.0, 1.0), scale=(1.0, 1.0), value_range=(0, 1000),
                                            seed=1)(ramp))
    shift = (out - ramp)[:, 10:-10, 10:-10]
    assert 1.4 < shift.std() < 2.4  # Keras's spread here: about 1.9 pixels
    assert np.corrcoef(shift[:, :, :-1].ravel(), shift[:, :, 1:].ravel())[0, 1] > 0.8


def _pairing(labels):
    """Each row's own weight and partner index (the largest other entry) from one-hot mixed labels."""
    labels = f64(labels)
    own = np.diag(labels)
    others = labels - np.diag(own)
    return own, others.argmax(axis=1)


def test_mixup_blends_images_and_labels_alike():
    x, labels = _batch(6), np.eye(6, dtype="float32")
    out = layers.MixUp(alpha=0.5, seed=2)({"images": x, "labels": labels})
    own, partner = _pairing(out["labels"])
    assert_close(out["labels"].sum(1), np.ones(6))
    expected = own[:, None, None, None] * f64(x) + (1 - own[:, None, None, None]) * f64(x)[partner]
    assert_close(out["images"], expected, atol=1e-3)
    lams = f64(layers.MixUp(alpha=0.2, seed=0).beta(20000, 0.2, "cpu"))
    assert abs(lams.mean() - 0.5) < 0.02 and abs(lams.var() - 0.25 / 1.4) < 0.01  # Beta(a, a): var 1/(4(2a+1))


def test_cutmix_pastes_a_box_and_mixes_labels_by_area():
    x, labels = _batch(6, 20, 20, 1), np.eye(6, dtype="float32")
    out = layers.CutMix(seed=2)({"images": x, "labels": labels})
    own, partner = _pairing(out["labels"])
    changed = f64(out["images"]) != f64(x)
    for i in range(6):
        pasted = f64(out["images"])[i] == f64(x)[partner[i]]
        if own[i] < 1:
            rows, cols = np.nonzero(changed[i, ..., 0])
            assert changed[i].mean() <= 1 - own[i] + 1e-6  # a box of area 1 - own, (partner pixels may match)
            assert pasted[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    assert tuple(out["labels"].shape) == (6, 6)


def test_pipeline_runs_layers_in_order_and_round_trips():
    x = _batch(2, 4, 4, 3)
    pipe = layers.Pipeline([layers.Rescaling(0.5, name="r"), layers.RandomFlip("horizontal", seed=1, name="f")])
    assert_close(pipe(x, training=False), f64(x) * 0.5)
    out = f64(pipe(x, training=True))
    assert all(np.allclose(out[i], f64(x)[i] * 0.5) or np.allclose(out[i], f64(x)[i, :, ::-1] * 0.5) for i in range(2))
    again = layers.Pipeline.from_config(pipe.get_config())
    assert [type(layer).__name__ for layer in again.layers] == ["Rescaling", "RandomFlip"]


@pytest.mark.parametrize("name", ["RandAugment", "AugMix"])
def test_composed_layers(name):
    x = _batch(4, 10, 10, 3)
    layer = getattr(layers, name)(seed=5)
    assert_close(layer(x, training=False), x)
    out = f64(layer(x, training=True))
    assert out.shape == x.shape
    assert_close(out, getattr(layers, name)(seed=5)(x, training=True))
    assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3  # every operation keeps value_range
    assert tuple(getattr(layers, name)(seed=1)(x[0]).shape) == x.shape[1:]


def test_rand_augment_applies_num_ops_chosen_operations(monkeypatch):
    layer = layers.RandAugment(num_ops=3, seed=0)
    calls = []
    for op in layer.augmentations:
        monkeypatch.setattr(op, "call", lambda inputs, training=True, op=op: calls.append(type(op).__name__) or inputs)
    x = _batch(2)
    assert_close(layer(x), x)
    assert len(calls) == 3
    assert len(layer.augmentations) == 11


def test_aug_mix_is_a_convex_mix_of_chains():
    # With identity operations every chain returns the image, so any mixing weights return it too.
    layer = layers.AugMix(seed=0, num_chains=4)
    layer.augmentations = [layers.Rescaling(1.0)]
    x = _batch(3)
    assert_close(layer(x), x, atol=1e-3)
    assert len(layers.AugMix(all_ops=False).augmentations) == 7


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", sorted(LAYERS) + ["RandAugment", "AugMix"])
def test_cuda_no_host_sync(name):
    factory = LAYERS.get(name) or getattr(layers, name)
    layer = factory(seed=1)
    x = torch.rand(4, 16, 16, 3, device="cuda") * 255
    layer(x, training=True)  # warm-up: the generators and kernels
    with no_host_sync():
        out = layer(x, training=True)
    assert out.device.type == "cuda"
