"""Model-level API against Keras 3.15: the same model, weights and data (no shuffling) in both libraries give the
same ``fit`` histories, ``evaluate``/``*_on_batch`` returns, ``metrics_names`` and exception classes."""
import warnings

import numpy as np
import pytest

import cornu
from tests.helpers import random_array, seeded

X = random_array((20, 4), seed=0)
Y1 = random_array((20, 1), seed=1)
YOH = np.eye(3, dtype="float32")[seeded(2).integers(0, 3, 20)]
SW = random_array((20,), seed=4, low=0.0, high=1.0)


def _init(model, seed=1):
    values = seeded(seed)
    model.set_weights([(values.standard_normal(w.shape) * 0.3).astype("float32") for w in model.get_weights()])
    return model


def _seq(lib):
    return _init(lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, activation="relu", name="h"),
                                 lib.layers.Dense(1, name="o")], name="s"))


def _outputs(lib, count=2, as_dict=False):
    """A functional model with `count` outputs p (1 unit), q (3 softmax units), r (1 unit)."""
    i = lib.Input((4,), name="inp")
    h = lib.layers.Dense(5, activation="relu", name="h")(i)
    outs = [lib.layers.Dense(1, name="p")(h), lib.layers.Dense(3, activation="softmax", name="q")(h),
            lib.layers.Dense(1, name="r")(h)][:count]
    return _init(lib.Model(i, dict(zip("pqr", outs)) if as_dict else outs, name="m"))


def _targets(count=2, as_dict=False):
    ys = [Y1, YOH, 2 * Y1][:count]
    return dict(zip("pqr", ys)) if as_dict else ys


def _both(keras_ref, build, **compile_kwargs):
    models = []
    for lib in (keras_ref, cornu):
        model = build(lib)
        model.compile(optimizer=lib.optimizers.SGD(0.05), **compile_kwargs)
        models.append(model)
    return models


def _close(ours, ref):
    if isinstance(ref, dict):
        assert list(ours) == list(ref)
        for key in ref:
            _close(ours[key], ref[key])
    elif isinstance(ref, (list, tuple)):
        assert type(ours) is type(ref) and len(ours) == len(ref), (ours, ref)
        for a, b in zip(ours, ref):
            _close(a, b)
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)


COMPILE_CASES = {
    "two losses": (2, False, dict(loss=["mse", "categorical_crossentropy"])),
    "loss weights": (2, False, dict(loss=["mse", "categorical_crossentropy"], loss_weights=[0.3, 2.0])),
    "metrics per output": (2, False, dict(loss=["mse", "categorical_crossentropy"],
                                          metrics=[["mae"], ["accuracy"]])),
    "one loss of two": (2, False, dict(loss=["mse", None])),
    "short loss list": (3, False, dict(loss=["mse", "categorical_crossentropy"])),
    "flat metrics one per output": (3, False, dict(loss="mse", metrics=["mae", "mse", None])),
    "dict outputs": (3, True, dict(loss={"p": "mse", "q": "categorical_crossentropy", "r": "mae"},
                                   loss_weights={"p": 0.5, "q": 1.5, "r": 1.0}, metrics={"q": "accuracy"})),
    "partial dict loss": (3, True, dict(loss={"q": "categorical_crossentropy"})),
    "broadcast loss": (3, True, dict(loss="mse", loss_weights=2.0)),
}


@pytest.mark.parametrize("case", sorted(COMPILE_CASES))
def test_multi_output_fit_and_evaluate_match_keras(keras_ref, case):
    count, as_dict, compile_kwargs = COMPILE_CASES[case]
    ref, ours = _both(keras_ref, lambda lib: _outputs(lib, count, as_dict), **compile_kwargs)
    assert ours.metrics_names == ref.metrics_names
    y = _targets(count, as_dict)
    kwargs = dict(batch_size=8, epochs=2, shuffle=False, verbose=0)
    _close(ours.fit(X, y, **kwargs).history, ref.fit(X, y, **kwargs).history)
    assert ours.metrics_names == ref.metrics_names
    _close(ours.evaluate(X, y, batch_size=8, verbose=0), ref.evaluate(X, y, batch_size=8, verbose=0))
    _close(ours.evaluate(X, y, batch_size=8, verbose=0, return_dict=True),
           ref.evaluate(X, y, batch_size=8, verbose=0, return_dict=True))


@pytest.mark.parametrize("sample_weight", ["one", "per output"])
def test_sample_weights_over_outputs_match_keras(keras_ref, sample_weight):
    ref, ours = _both(keras_ref, _outputs, loss=["mse", "categorical_crossentropy"],
                      weighted_metrics=[["mae"], ["accuracy"]])
    sw = SW if sample_weight == "one" else [SW, SW[::-1].copy()]
    kwargs = dict(batch_size=8, epochs=2, shuffle=False, verbose=0, sample_weight=sw)
    _close(ours.fit(X, _targets(), **kwargs).history, ref.fit(X, _targets(), **kwargs).history)


@pytest.mark.parametrize("metrics,weighted", [(["mae"], ["mae"]), (["mse", "mae"], ["mae"]), (None, ["mae"])])
def test_weighted_metric_names_and_evaluate_list_match_keras(keras_ref, metrics, weighted):
    ref, ours = _both(keras_ref, _seq, loss="mse", metrics=metrics, weighted_metrics=weighted)
    kwargs = dict(batch_size=8, epochs=1, shuffle=False, verbose=0, sample_weight=SW)
    _close(ours.fit(X, Y1, **kwargs).history, ref.fit(X, Y1, **kwargs).history)
    _close(ours.evaluate(X, Y1, sample_weight=SW, verbose=0), ref.evaluate(X, Y1, sample_weight=SW, verbose=0))
    _close(ours.train_on_batch(X, Y1, sample_weight=SW, return_dict=True),
           ref.train_on_batch(X, Y1, sample_weight=SW, return_dict=True))


def test_metrics_list_and_results_before_training_match_keras(keras_ref):
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        assert model.metrics_names == []
        model.compile(optimizer="sgd", loss="mse")
        assert model.metrics_names == ["loss"]
        assert {k: float(v) for k, v in model.get_metrics_result().items()} == {"loss": 0.0}
        model.evaluate(X, Y1, verbose=0)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])  # a fresh loss tracker
        assert model.metrics_names == ["loss", "compile_metrics"]
        with pytest.raises(ValueError, match="not yet been built"):
            model.get_metrics_result()


BAD_COMPILES = {
    "unknown loss": (1, dict(loss="no_such_loss")),
    "loss not a loss": (1, dict(loss=3)),
    "loss list too long": (3, dict(loss=["mse"] * 4)),
    "loss dict missing outputs": (3, dict(loss={"p": "mse"})),
    "loss weights list for one loss": (3, dict(loss="mse", loss_weights=[1.0, 2.0, 3.0])),
    "loss weights list too short": (3, dict(loss=["mse", "mse", "mae"], loss_weights=[1.0, 2.0])),
    "metrics list too short": (3, dict(loss="mse", metrics=[["mae"], ["mae"]])),
    "metrics dict unknown output": (3, dict(loss="mse", metrics={"zz": "mae"})),
    "one y for three outputs": (3, dict(loss="mse")),
}


@pytest.mark.parametrize("case", sorted(BAD_COMPILES))
def test_bad_compile_arguments_raise_from_fit_like_keras(keras_ref, case):
    count, compile_kwargs = BAD_COMPILES[case]
    y = Y1 if count == 1 or case == "one y for three outputs" else _targets(count)
    errors = []
    for lib in (keras_ref, cornu):
        model = _seq(lib) if count == 1 else _outputs(lib, count)
        model.compile(optimizer="sgd", **compile_kwargs)  # Keras resolves these on the first batch
        with pytest.raises(Exception) as err, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y, verbose=0)
        errors.append(err.type)
    assert errors[1] is errors[0]


@pytest.mark.parametrize("as_dict", [False, True])
def test_metrics_given_as_a_string_or_flat_list_for_many_outputs_is_a_value_error(keras_ref, as_dict):
    for lib in (keras_ref, cornu):
        with pytest.raises(ValueError):
            _seq(lib).compile(optimizer="sgd", loss="mse", metrics="mae")
        model = _outputs(lib, 2, as_dict)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        with pytest.raises(ValueError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, _targets(2, as_dict), verbose=0)


def _one_in_a_list(lib, wrap):
    i = lib.Input((4,), name="i1")
    return _init(lib.Model(i, wrap([lib.layers.Dense(1, name="o1")(i)])))


@pytest.mark.parametrize("wrap", [list, tuple])
def test_outputs_given_as_a_one_element_list_come_back_as_a_tensor_like_keras(keras_ref, wrap):
    ref, ours = _one_in_a_list(keras_ref, wrap), _one_in_a_list(cornu, wrap)
    ours.set_weights(ref.get_weights())
    for method in ("predict", "predict_on_batch"):
        args = {"verbose": 0} if method == "predict" else {}
        a, b = getattr(ours, method)(X, **args), getattr(ref, method)(X, **args)
        assert type(a) is type(b) is np.ndarray
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert type(ours(X)).__name__ == type(ref(X)).__name__ == "Tensor"
    for m in (ref, ours):
        m.compile(optimizer="sgd", loss=["mse"], metrics=[["mae"]])
    assert sorted(ours.fit(X, [Y1], verbose=0).history) == sorted(ref.fit(X, [Y1], verbose=0).history)


def test_list_outputs_are_plain_lists_like_keras(keras_ref):
    ref, ours = _outputs(keras_ref), _outputs(cornu)
    for a, b in ((ours.predict(X, verbose=0), ref.predict(X, verbose=0)), (ours.predict_on_batch(X),
                                                                          ref.predict_on_batch(X))):
        assert type(a) is type(b) is list
        _close(a, b)
    assert type(ours(X)) is type(ref(X)) is list


def test_one_input_given_in_a_list_and_dict_inputs_like_keras(keras_ref):
    ref, ours = _seq(keras_ref), _seq(cornu)
    np.testing.assert_allclose(ours.predict([X], verbose=0), ref.predict([X], verbose=0), rtol=1e-5)
    for m in (ref, ours):
        m.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError):
            m.fit({"x": X}, Y1, verbose=0)
    models = []
    for lib in (keras_ref, cornu):
        a, b = lib.Input((4,), name="ia"), lib.Input((2,), name="ib")
        out = lib.layers.Dense(1, name="o")(lib.layers.Concatenate(name="c")([a, b]))
        models.append(_init(lib.Model({"ia": a, "ib": b}, out, name="mi")))
    x2 = random_array((20, 2), seed=9)
    with pytest.warns(UserWarning):  # an extra key is left out, with a warning
        ours = models[1].predict({"ia": X, "ib": x2, "zz": x2}, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(ours, models[0].predict({"ia": X, "ib": x2, "zz": x2}, verbose=0), rtol=1e-5)
    for m in models:
        with pytest.raises(ValueError, match="ib"):
            m.predict({"ia": X, "zz": x2}, verbose=0)


@pytest.mark.parametrize("steps", [2, 3, 4])
def test_steps_per_epoch_carries_on_in_the_data_like_keras(keras_ref, steps):
    ref, ours = _both(keras_ref, _seq, loss="mse")
    kwargs = dict(batch_size=8, epochs=4, steps_per_epoch=steps, shuffle=False, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(ours.fit(X, Y1, **kwargs).history, ref.fit(X, Y1, **kwargs).history)
    _close(ours.get_weights(), ref.get_weights())


@pytest.mark.parametrize("class_weight", [{0: 2.0}, {1: 2.0, 2: 0.5}, {"0": 1.0, "1": 2.0}])
def test_class_weight_for_missing_classes_like_keras(keras_ref, class_weight):
    classes = seeded(2).integers(0, 3, 20)
    ref, ours = _both(keras_ref, _seq, loss="mse")
    kwargs = dict(batch_size=8, epochs=2, shuffle=False, verbose=0, class_weight=class_weight)
    _close(ours.fit(X, classes, **kwargs).history, ref.fit(X, classes, **kwargs).history)


def test_class_weight_with_sample_weight_and_missing_losses_are_value_errors(keras_ref):
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        with pytest.raises(ValueError):
            model.compute_loss(X, Y1, Y1)  # not compiled: no loss
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError):
            model.fit(X, Y1, sample_weight=SW, class_weight={0: 1.0}, verbose=0)
        with pytest.raises(ValueError):
            model.train_on_batch(X, Y1, sample_weight=SW, class_weight={0: 1.0})
        model = _seq(lib)
        model.compile(optimizer="sgd", metrics=["mae"])
        for call in (lambda: model.evaluate(X, Y1, verbose=0), lambda: model.fit(X, Y1, verbose=0),
                     lambda: model.test_on_batch(X, Y1)):
            with pytest.raises(ValueError, match="No loss to compute"):
                call()


def test_to_json_and_build_config_of_a_functional_model_like_keras(keras_ref):
    import json

    ref, ours = _outputs(keras_ref), _outputs(cornu)
    assert ours.get_build_config() == ref.get_build_config() == {"input_shape": None}
    theirs, mine = json.loads(ref.to_json()), json.loads(ours.to_json())
    assert sorted(mine) == sorted(theirs)
    assert mine["build_config"] == theirs["build_config"]


def test_compile_without_a_loss_keeps_the_earlier_loss_like_keras(keras_ref):
    results = []
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        model.compile(optimizer="sgd", loss="mse")
        model.compile(optimizer="sgd", metrics=["mae"])
        results.append((model.loss, model.evaluate(X, Y1, verbose=0)))
    assert results[1][0] == results[0][0] == "mse"
    _close(results[1][1], results[0][1])


def test_sequential_with_no_layers_or_a_repeated_name_is_a_value_error(keras_ref):
    for lib in (keras_ref, cornu):
        with pytest.raises(ValueError, match="no layers"):
            lib.Sequential().predict(X, verbose=0)
        model = _seq(lib)
        with pytest.raises(ValueError, match="unique names"):
            model.add(lib.layers.Dense(2, name="h"))
        assert [layer.name for layer in model.layers] == ["h", "o"]


def test_repeated_and_function_metric_names_like_keras(keras_ref):
    def mean_pred(y_true, y_pred):
        return y_pred

    results = []
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        model.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae", "mae", "mse"],
                      metrics=[lambda t, p: p, lambda t, p: p, mean_pred, lib.metrics.MeanAbsoluteError(), "mae",
                               "mean_absolute_error"])
        results.append((model.evaluate(X, Y1, sample_weight=SW, verbose=0, return_dict=True),
                        model.evaluate(X, Y1, sample_weight=SW, verbose=0)))
    _close(results[1], results[0])


@pytest.mark.parametrize("name", ["crossentropy", "ce"])
def test_crossentropy_metric_string_is_not_resolved_like_keras(keras_ref, name):
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        model.compile(optimizer="sgd", loss="mse", metrics=[name])
        with pytest.raises(ValueError):
            model.evaluate(X, Y1, verbose=0)


def test_dict_outputs_are_named_by_their_layers_and_trained_by_key_like_keras(keras_ref):
    models = []
    for lib in (keras_ref, cornu):
        i = lib.Input((4,), name="inp")
        outs = {"kb": lib.layers.Dense(3, activation="softmax", name="lb")(i), "ka": lib.layers.Dense(1, name="la")(i)}
        model = _init(lib.Model(i, outs))
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss={"ka": "mse", "kb": "categorical_crossentropy"},
                      metrics={"ka": ["mae"]})
        models.append(model)
    ref, ours = models
    assert ours.output_names == ref.output_names == ["la", "lb"]
    kwargs = dict(batch_size=8, epochs=2, shuffle=False, verbose=0)
    _close(ours.fit(X, {"ka": Y1, "kb": YOH}, **kwargs).history, ref.fit(X, {"ka": Y1, "kb": YOH}, **kwargs).history)
    assert sorted(ours.predict(X, verbose=0)) == sorted(ref.predict(X, verbose=0)) == ["ka", "kb"]


@pytest.mark.parametrize("verbose", [3, -1, None, "x"])
def test_other_verbose_values_print_nothing_like_keras(keras_ref, capfd, verbose):
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        model.compile(optimizer="sgd", loss="mse")
        model.fit(X, Y1, epochs=1, verbose=verbose)
        model.evaluate(X, Y1, verbose=verbose)
        model.predict(X, verbose=verbose)
        assert capfd.readouterr().out == ""


@pytest.mark.parametrize("x,y", [("lists", "array"), ("array", "lists"), ("numbers", None)])
def test_python_lists_of_numbers_are_not_data_like_keras(keras_ref, x, y):
    data = {"lists": X.tolist(), "array": X, "numbers": [1.0, 2.0]}
    targets = {"lists": Y1.tolist(), "array": Y1, None: None}
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError):
            model.fit(data[x], targets[y], verbose=0)


def test_a_generator_must_yield_tuples_like_keras(keras_ref):
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        with pytest.raises(ValueError, match="tuple"):
            model.predict((X[i:i + 5] for i in range(0, 20, 5)), verbose=0)
        out = model.predict(((X[i:i + 5],) for i in range(0, 20, 5)), verbose=0)
        assert out.shape == (20, 1)


def test_bad_steps_per_execution_fails_in_fit_like_keras(keras_ref):
    for lib in (keras_ref, cornu):
        model = _seq(lib)
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=0)
        with pytest.raises(ValueError):
            model.fit(X, Y1, verbose=0)
