"""Functional API: symbolic inputs, DAGs, multi-IO training, shared and nested models, errors."""
import re

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import layers, ops


def test_input_is_symbolic_with_none_batch():
    x = keras.Input(shape=(28, 28, 1), name="img")
    assert isinstance(x, keras.KerasTensor)
    assert x.shape == (None, 28, 28, 1) and x.dtype == "float32"
    assert keras.Input((3,), batch_size=8, dtype="int32").shape == (8, 3)


def test_operators_and_ops_on_symbolic_tensors():
    x = keras.Input((3, 4))
    assert (x + 1).shape == (None, 3, 4)
    assert (x * x - x / 2).shape == (None, 3, 4)
    assert (x @ ops.ones((4, 5))).shape == (None, 3, 5)
    assert x[:, 0].shape == (None, 4)
    assert ops.sum(x, axis=1).shape == (None, 4)
    assert ops.concatenate([x, x], axis=-1).shape == (None, 3, 8)


def two_io_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(8, activation="relu")(a), b])
    out_a = layers.Dense(3, activation="softmax", name="out_a")(h)
    out_b = layers.Dense(1, name="out_b")(h)
    return keras.Model(inputs={"a": a, "b": b}, outputs={"out_a": out_a, "out_b": out_b}, name="two_io")


def test_two_input_two_output_model_trains_with_dict_losses_and_weights():
    keras.utils.set_random_seed(0)
    model = two_io_model()
    assert isinstance(model, keras.Model) and type(model).__name__ == "Functional"
    assert model.output_names == ["out_a", "out_b"]
    assert model.output_shape == {"out_a": (None, 3), "out_b": (None, 1)}
    assert model.count_params() == (4 * 8 + 8) + (11 * 3 + 3) + (11 * 1 + 1)
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(128, 4)).astype("float32"), rng.normal(size=(128, 3)).astype("float32")
    ya = (xa[:, 0] > 0).astype("int64") + (xa[:, 1] > 0)
    yb = (xa.sum(1, keepdims=True) + xb[:, :1]).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss={"out_a": "sparse_categorical_crossentropy", "out_b": "mse"},
                  loss_weights={"out_a": 1.0, "out_b": 0.5}, metrics={"out_a": ["accuracy"], "out_b": ["mae"]})
    hist = model.fit({"a": xa, "b": xb}, {"out_a": ya, "out_b": yb}, epochs=16, batch_size=32, verbose=0,
                     validation_split=0.25)
    assert set(hist.history) == {"loss", "out_a_loss", "out_b_loss", "out_a_accuracy", "out_b_mae",
                                 "val_loss", "val_out_a_loss", "val_out_b_loss", "val_out_a_accuracy",
                                 "val_out_b_mae"}
    h = hist.history
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    # total = out_a_loss + 0.5 * out_b_loss (no regularizers here)
    ev = model.evaluate({"a": xa, "b": xb}, {"out_a": ya, "out_b": yb}, verbose=0, return_dict=True)
    assert ev["loss"] == pytest.approx(ev["out_a_loss"] + 0.5 * ev["out_b_loss"], rel=1e-4)
    pred = model.predict({"a": xa[:5], "b": xb[:5]}, verbose=0)
    assert pred["out_a"].shape == (5, 3) and pred["out_b"].shape == (5, 1)


def test_list_inputs_and_outputs():
    a, b = keras.Input((2,)), keras.Input((2,))
    s = layers.Add()([a, b])
    model = keras.Model([a, b], [s, layers.Dense(1)(s)])
    out = model([np.ones((3, 2), "float32"), np.ones((3, 2), "float32")])
    assert isinstance(out, list) and out[0].shape == (3, 2) and out[1].shape == (3, 1)
    np.testing.assert_allclose(out[0].detach().numpy(), 2.0)
    assert model.input_shape == [(None, 2), (None, 2)] and model.output_shape == [(None, 2), (None, 1)]


def test_shared_layer_is_one_set_of_weights():
    shared = layers.Dense(4, name="shared")
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], layers.Concatenate()([shared(a), shared(b)]))
    assert sum(l is shared for l in model.layers) == 1
    assert len(model.weights) == 2 and model.count_params() == 3 * 4 + 4
    x = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    out = model([x, x]).detach().numpy()
    np.testing.assert_allclose(out[:, :4], out[:, 4:])
    assert model.output_shape == (None, 8)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    hist = model.fit([x, x], np.zeros((2, 8), "float32"), epochs=3, verbose=0)
    assert list(hist.history) == ["loss", "mae"]
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_nested_model_used_as_a_layer():
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, layers.Dense(2, activation="relu")(inner_in), name="inner")
    x = keras.Input((4,))
    y = layers.Dense(1)(inner(x))
    outer = keras.Model(x, y, name="outer")
    assert outer.output_shape == (None, 1)
    assert outer.get_layer("inner") is inner
    assert outer.count_params() == (4 * 2 + 2) + (2 + 1)
    outer.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    data = np.random.default_rng(2).normal(size=(16, 4)).astype("float32")
    hist = outer.fit(data, data[:, :1], epochs=5, verbose=0)
    assert list(hist.history) == ["loss"]
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    np.testing.assert_allclose(outer.predict(data, verbose=0),
                               outer.layers[-1](inner(torch.as_tensor(data))).detach().numpy(), rtol=1e-5)


def residual_block(x, filters):
    h = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    h = layers.Conv2D(filters, 3, padding="same")(h)
    return layers.Activation("relu")(layers.Add()([x, h]))


def test_residual_block_with_add_trains_and_summary_has_connected_to(capsys):
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 4))
    out = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(residual_block(inp, 4)))
    model = keras.Model(inp, out)
    assert model.count_params() == 2 * (3 * 3 * 4 * 4 + 4) + (4 * 2 + 2)
    add_layer = [l for l in model.layers if isinstance(l, layers.Add)][0]
    assert add_layer.output.shape == (None, 8, 8, 4) and model.output_shape == (None, 2)
    model.summary()
    text = capsys.readouterr().out
    assert "Connected to" in text and re.search(r"add(_\d+)? \(Add\)", text)
    assert re.search(r"conv2d_\d+\[0\]\[0\]", text)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 8, 4)).astype("float32")
    y = (x.mean((1, 2, 3)) > 0).astype("int64")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=6, batch_size=16, verbose=0)
    assert list(hist.history) == ["accuracy", "loss"]
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_get_layer_by_name_and_index():
    model = two_io_model()
    assert model.get_layer("out_b").units == 1
    assert model.get_layer(index=0).name == "a"
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")


def test_disconnected_input_is_a_clear_error():
    a, b = keras.Input((2,), name="a_in"), keras.Input((2,), name="b_in")
    out = layers.Dense(1)(a)
    with pytest.raises(ValueError, match="b_in.*not connected"):
        keras.Model([a, b], out)
    c = keras.Input((2,), name="c_in")
    with pytest.raises(ValueError, match="Graph disconnected.*c_in"):
        keras.Model(a, layers.Add()([a, c]))


def test_wrong_number_or_names_of_inputs_are_clear_errors():
    model = two_io_model()
    with pytest.raises(ValueError, match="'c'"):
        model({"a": np.ones((1, 4)), "c": np.ones((1, 3))})
    a = keras.Input((2,))
    single = keras.Model(a, layers.Dense(1)(a))
    with pytest.raises(ValueError, match=r"expects 1 input\(s\), but it received 2"):
        single([np.ones((1, 2)), np.ones((1, 2))])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 2\), found shape=\(1, 5\)"):
        single(np.ones((1, 5)))


def test_dict_key_naming_no_output_is_a_clear_error():
    model = two_io_model()
    x = {"a": np.ones((4, 4)), "b": np.ones((4, 3))}
    with pytest.raises(KeyError, match="'out_c'"):  # Keras's class, raised by the first fit
        model.compile(optimizer="adam", loss={"out_a": "mse", "out_c": "mse"})
        model.fit(x, {"out_a": np.zeros(4), "out_b": np.zeros((4, 1))}, verbose=0)
    model.compile(optimizer="adam", loss={"out_a": "sparse_categorical_crossentropy", "out_b": "mse"})
    with pytest.raises(ValueError, match="'out_x'"):
        model.fit({"a": np.ones((4, 4)), "b": np.ones((4, 3))}, {"out_a": np.zeros(4), "out_x": np.zeros((4, 1))},
                  verbose=0)


def test_model_from_config_rebuilds_a_functional_graph():
    model = two_io_model()
    clone = keras.Model.from_config(model.get_config())
    assert type(clone).__name__ == "Functional"
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert clone.count_params() == model.count_params()
    assert clone.output_names == model.output_names


def test_to_json_model_from_json_and_clone_model():
    model = two_io_model()
    for clone in (keras.models.model_from_json(model.to_json()), keras.models.clone_model(model)):
        assert type(clone).__name__ == "Functional" and clone is not model
        assert clone.count_params() == model.count_params()
        assert [l.name for l in clone.layers] == [l.name for l in model.layers]
        assert not np.array_equal(clone.get_layer("out_a").get_weights()[0], model.get_layer("out_a").get_weights()[0])
    with pytest.raises(ValueError, match="to_json"):
        keras.models.model_from_json("not json")
