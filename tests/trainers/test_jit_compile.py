"""jit_compile=True: the whole step captured by torch.compile, the same numbers as eager.

Most tests trace with the ``aot_eager`` backend (the same capture, no code generation: seconds instead of
minutes on this CPU); one runs the default inductor backend end to end.
"""
import numpy as np
import pytest
import torch

import cornu
from cornu import layers
from cornu.utils.rng_utils import set_random_seed
from tests.helpers import random_array


@pytest.fixture(autouse=True)
def aot_eager(monkeypatch):
    monkeypatch.setenv("CORNU_COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def sequential():
    return cornu.Sequential([cornu.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                             layers.BatchNormalization(), layers.Flatten(), layers.Dropout(0.3),
                             layers.Dense(3, activation="softmax")])


def functional():
    i = cornu.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu")(i)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    return cornu.Model(i, layers.Dense(3, activation="softmax")(x))


class Subclassed(cornu.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(4, 3, activation="relu")
        self.norm = layers.BatchNormalization()
        self.drop = layers.Dropout(0.3)
        self.head = layers.Dense(3, activation="softmax")

    def call(self, x, training=None):
        x = self.norm(self.conv(x), training=training)
        return self.head(self.drop(torch.flatten(x, 1), training=training))


def data(n=40):
    return random_array((n, 8, 8, 1), low=0, high=1), np.random.default_rng(1).integers(0, 3, n)


def train(build, jit, epochs=2, **fit_kwargs):
    set_random_seed(3)
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
    x, y = data()
    set_random_seed(4)
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, validation_data=(x, y), **fit_kwargs)
    return model, history


@pytest.mark.parametrize("build", [sequential, functional, Subclassed], ids=["sequential", "functional", "subclass"])
def test_jit_gives_the_eager_numbers(build):
    eager, h_eager = train(build, False)
    jit, h_jit = train(build, True)
    assert jit.jit_compile and not eager.jit_compile
    for a, b in zip(eager.get_weights(), jit.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    for key in h_eager.history:
        np.testing.assert_allclose(h_jit.history[key], h_eager.history[key], rtol=1e-5)
    x, _ = data(8)
    np.testing.assert_allclose(jit.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_compiles_once_per_input_signature():
    model, _ = train(sequential, True, epochs=1)
    step = model._compiled_train_core
    first = step.compilations
    assert 1 <= first <= 2  # the batch of 16 and the last batch of 8 (40 samples)
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert step.compilations == first
    assert model.test_function is not None


def test_whole_step_is_one_graph():
    model = sequential()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = (torch.as_tensor(a) for a in data(16))
    model.train_on_batch(x, y)  # built
    from cornu.trainers.step_function import _capture_backward

    variables = model.trainable_weights
    with _capture_backward():
        explanation = torch._dynamo.explain(model._train_core)(x, y, None, variables)
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1


def test_run_eagerly_wins_over_jit_compile():
    model = sequential()
    with pytest.warns(UserWarning, match="Disabling `jit_compile`"):
        model.compile(optimizer="adam", loss="mse", run_eagerly=True, jit_compile=True)
    assert model.run_eagerly and not model.jit_compile
    model.compile(optimizer="adam", loss="mse")
    assert model.jit_compile is False  # "auto" stays eager, as Keras on PyTorch


def test_custom_train_step_is_compiled_too():
    class Custom(cornu.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            loss.backward()
            variables = self.trainable_weights
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in variables], variables)
            self._loss_tracker.update_state(loss.detach())
            return {"loss": self._loss_tracker.result()}

    results = []
    for jit in (False, True):
        set_random_seed(0)
        model = Custom()
        model.compile(optimizer=cornu.optimizers.SGD(0.1), loss="mse", jit_compile=jit)
        x, y = random_array((32, 4)), random_array((32, 1), seed=1)
        results.append(model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history["loss"])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)


def test_inductor_end_to_end(monkeypatch):
    monkeypatch.setenv("CORNU_COMPILE_BACKEND", "inductor")
    monkeypatch.setattr(torch._inductor.config, "fallback_random", True)  # eager's dropout masks
    build = lambda: cornu.Sequential([cornu.Input((6,)), layers.Dense(8, activation="relu"), layers.Dropout(0.2),
                                      layers.Dense(1)])
    results = []
    for jit in (False, True):
        set_random_seed(0)
        model = build()
        model.compile(optimizer="adam", loss="mse", jit_compile=jit)
        set_random_seed(1)
        x, y = random_array((32, 6)), random_array((32, 1), seed=1)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
