"""How ``compile``'s loss/metric arguments spread over a model's outputs (Keras's rules), checked by formula."""
import numpy as np
import pytest

import cornu
from tests.helpers import f64, random_array

X = random_array((10, 3), seed=0)
YA = random_array((10, 1), seed=1)
YB = random_array((10, 2), seed=2)


def two_outputs():
    i = cornu.Input((3,))
    return cornu.Model(i, [cornu.layers.Dense(1, name="a")(i), cornu.layers.Dense(2, name="b")(i)])


def test_per_output_losses_are_means_over_samples_not_over_batches():
    model = two_outputs()
    model.compile(optimizer=cornu.optimizers.SGD(0.0), loss=["mse", "mae"], loss_weights=[2.0, 0.5])
    logs = model.evaluate(X, [YA, YB], batch_size=4, verbose=0, return_dict=True)  # batches of 4, 4, 2
    pa, pb = (f64(p) for p in model.predict(X, verbose=0))
    mse = np.mean((pa - YA) ** 2)
    mae = np.mean(np.abs(pb - YB))
    np.testing.assert_allclose([logs["a_loss"], logs["b_loss"], logs["loss"]], [mse, mae, 2 * mse + 0.5 * mae],
                               rtol=1e-5)


def test_per_output_losses_are_tracked_only_with_two_losses_and_after_the_first_batch():
    model = two_outputs()
    model.compile(optimizer="sgd", loss=["mse", "mae"])
    assert model.metrics_names == ["loss"]
    model.evaluate(X, [YA, YB], verbose=0)
    assert model.metrics_names == ["loss", "a_loss", "b_loss"]
    model.compile(optimizer="sgd", loss=["mse", None])
    assert list(model.evaluate(X, [YA, YB], verbose=0, return_dict=True)) == ["loss"]


def test_a_short_loss_list_leaves_the_last_outputs_without_loss():
    model = two_outputs()
    model.compile(optimizer=cornu.optimizers.SGD(0.0), loss=["mse"])
    loss = model.evaluate(X, [YA, YB], verbose=0)
    np.testing.assert_allclose(loss, np.mean((f64(model.predict(X, verbose=0)[0]) - YA) ** 2), rtol=1e-5)


def test_weighted_metric_named_like_an_unweighted_one_is_prefixed():
    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(1)])
    model.compile(optimizer=cornu.optimizers.SGD(0.0), loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    sw = random_array((10,), seed=3, low=0, high=1)
    logs = model.evaluate(X, YA, sample_weight=sw, verbose=0, return_dict=True)
    err = np.abs(f64(model.predict(X, verbose=0)) - YA)[:, 0]
    np.testing.assert_allclose([logs["mae"], logs["weighted_mae"]], [err.mean(), (err * sw).sum() / sw.sum()],
                               rtol=1e-5)
    # Keras's list: the compiled metrics by their own names ("mae" twice), then the other logs by name.
    values = model.evaluate(X, YA, sample_weight=sw, verbose=0)
    np.testing.assert_allclose(values, [logs["loss"], logs["mae"], logs["mae"], logs["weighted_mae"]], rtol=1e-6)


def test_bad_loss_and_metric_arguments():
    model = two_outputs()
    model.compile(optimizer="sgd", loss="no_such_loss")  # resolved on the first batch, as in Keras
    with pytest.raises(ValueError, match="no_such_loss"):
        model.fit(X, [YA, YB], verbose=0)
    model.compile(optimizer="sgd", loss=["mse", "mse", "mse"])
    with pytest.raises(KeyError, match="3 entries"):
        model.fit(X, [YA, YB], verbose=0)
    model.compile(optimizer="sgd", loss="mse", loss_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="got 1 losses and 2 weights"):
        model.fit(X, [YA, YB], verbose=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    with pytest.raises(ValueError, match="one entry per model output"):
        model.fit(X, [YA, YB], verbose=0)
    with pytest.raises(ValueError, match="list, tuple, or dict"):
        model.compile(optimizer="sgd", loss="mse", metrics="mae")


def test_steps_per_epoch_epochs_carry_on_in_the_data():
    seen = []

    class Sizes(cornu.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append("|")

    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(1)])
    model.compile(optimizer=cornu.optimizers.SGD(0.0), loss="mse")
    step = model.train_step
    model.train_step = lambda data: (seen.append(len(data[0])), step(data))[1]
    with pytest.warns(UserWarning, match="ran out of data"):  # 10 samples in batches of 4: 4, 4, 2
        model.fit(X, YA, batch_size=4, epochs=4, steps_per_epoch=2, shuffle=False, verbose=0, callbacks=[Sizes()])
    assert seen == ["|", 4, 4, "|", 2, "|", 4, 4, "|", 2]


def test_class_weight_missing_classes_weigh_one():
    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(1)])
    model.compile(optimizer=cornu.optimizers.SGD(0.0), loss="mse")
    classes = np.array([0, 1, 2, 2, 1, 0, 3, 1, 0, 2])
    loss = model.fit(X, classes, batch_size=10, class_weight={1: 3.0}, verbose=0).history["loss"][0]
    err = (f64(model.predict(X, verbose=0))[:, 0] - classes) ** 2
    np.testing.assert_allclose(loss, np.mean(err * np.where(classes == 1, 3.0, 1.0)), rtol=1e-5)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(X, classes, sample_weight=np.ones(10), class_weight={1: 3.0}, verbose=0)
