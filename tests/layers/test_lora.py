"""LoRA on Dense (``lora_rank`` / ``enable_lora``), against the formula and against Keras 3.15."""
import numpy as np
import pytest

import cornu
from tests.helpers import assert_close, f64, random_array


def lora_dense(lib, **kwargs):
    layer = lib.layers.Dense(4, **kwargs)
    layer.build((None, 3))
    return layer


def test_lora_weights_and_forward_formula():
    layer = lora_dense(cornu, lora_rank=2)
    assert [(w.name, w.shape, w.trainable) for w in layer.weights] == [
        ("kernel", (3, 4), False), ("bias", (4,), True), ("lora_kernel_a", (3, 2), True),
        ("lora_kernel_b", (2, 4), True)]
    assert np.all(layer.lora_kernel_b.numpy() == 0)
    b = random_array((2, 4), seed=3)
    layer.lora_kernel_b.assign(b)
    x = random_array((5, 3), seed=1)
    kernel, bias, a = (f64(w) for w in layer.get_weights()[:3])
    expected = f64(x) @ (kernel + a @ f64(b) * (layer.lora_alpha / layer.lora_rank)) + bias
    assert_close(layer(x), expected)


def test_only_lora_weights_train():
    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(2, lora_rank=1)])
    kernel = model.layers[0].kernel.numpy()
    model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse")
    model.fit(random_array((16, 3)), random_array((16, 2), seed=1), epochs=2, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)
    assert not np.all(model.layers[0].lora_kernel_b.numpy() == 0)


def test_enable_lora_errors_and_alpha():
    with pytest.raises(ValueError, match="isn't yet built"):
        cornu.layers.Dense(4).enable_lora(2)
    layer = lora_dense(cornu)
    layer.enable_lora(3, lora_alpha=6.0)
    assert (layer.lora_rank, layer.lora_alpha) == (3, 6.0)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match="kernel constraints"):
        lora_dense(cornu, kernel_constraint="non_neg").enable_lora(2)
    # Keras 3.15 re-enables LoRA at build with alpha = rank, whatever the constructor said.
    built = lora_dense(cornu, lora_rank=2, lora_alpha=6.0)
    assert built.lora_alpha == 2 and built.get_config()["lora_alpha"] == 2
    assert cornu.layers.Dense(4, lora_rank=2, lora_alpha=6.0).get_config()["lora_alpha"] == 6.0


def test_saved_kernel_is_merged_and_lora_resets_on_load(tmp_path):
    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(4, lora_rank=2)])
    layer = model.layers[0]
    layer.lora_kernel_b.assign(random_array((2, 4), seed=2))
    x = random_array((4, 3))
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    plain = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(4)])
    plain.load_weights(path)
    assert_close(plain.predict(x, verbose=0), expected)
    again = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(4, lora_rank=2)])
    again.load_weights(path)
    assert np.all(again.layers[0].lora_kernel_b.numpy() == 0)
    assert_close(again.predict(x, verbose=0), expected)


def test_lora_matches_keras(keras_ref, tmp_path):
    ref, ours = lora_dense(keras_ref, lora_rank=2), lora_dense(cornu, lora_rank=2)
    weights = [w.copy() for w in ref.get_weights()]
    weights[3] = random_array((2, 4), seed=5)
    ref.set_weights(weights)
    ours.set_weights(weights)
    x = random_array((6, 3), seed=4)
    assert_close(ours(x), f64(ref(x).detach()))
    assert {k: v for k, v in ours.get_config().items() if "lora" in k} == \
        {k: v for k, v in ref.get_config().items() if "lora" in k}
    assert [(w.name, tuple(w.shape), w.trainable) for w in ours.weights] == \
        [(w.name, tuple(w.shape), w.trainable) for w in ref.weights]
    path = str(tmp_path / "k.weights.h5")
    model = keras_ref.Sequential([keras_ref.Input((3,)), ref])
    model.save_weights(path)
    plain = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(4)])
    plain.load_weights(path)
    assert_close(plain.predict(x, verbose=0), f64(model.predict(x, verbose=0)))
