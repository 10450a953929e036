"""`.keras` files across libraries: Keras 3.15 writes, cornu reads (and back), predictions and training equal."""
import numpy as np
import pytest

import cornu
from tests.helpers import assert_close, keras_oracle_module, random_array

keras = keras_oracle_module()


def _core(k):
    inputs = k.Input((6,))
    x = k.layers.Dense(5, activation="relu", kernel_regularizer=k.regularizers.L2(0.01),
                       bias_initializer=k.initializers.RandomNormal(seed=1),
                       kernel_constraint=k.constraints.MaxNorm(2.0))(inputs)
    x = k.layers.Activation("tanh")(x)
    x = k.layers.Dense(3, use_bias=False, kernel_initializer="he_normal")(x)
    return k.Model(inputs, k.layers.Softmax()(x)), (6,)


def _conv(k):
    return k.Sequential([
        k.Input((8, 8, 3)),
        k.layers.Conv2D(4, 3, padding="same", activation="relu"),
        k.layers.SeparableConv2D(4, 3, depth_multiplier=2),
        k.layers.DepthwiseConv2D(2, strides=2),
        k.layers.Conv2DTranspose(3, 3, strides=2),
        k.layers.Conv2D(2, 1, dilation_rate=1, kernel_regularizer="l1"),
    ]), (8, 8, 3)


def _conv1d3d(k):
    inputs = k.Input((10, 3))
    x = k.layers.Conv1D(4, 3, padding="causal")(inputs)
    x = k.layers.SeparableConv1D(4, 2)(x)
    x = k.layers.DepthwiseConv1D(2)(x)
    x = k.layers.Conv1DTranspose(2, 3)(x)
    x = k.layers.Reshape((x.shape[1], 2, 1, 1))(x)
    x = k.layers.Conv3D(2, (2, 1, 1))(x)
    x = k.layers.Conv3DTranspose(2, (2, 1, 1))(x)
    return k.Model(inputs, x), (10, 3)


def _pooling(k):
    inputs = k.Input((8, 8, 3))
    a = k.layers.MaxPooling2D(2)(inputs)
    a = k.layers.AveragePooling2D(2, padding="same")(a)
    a = k.layers.GlobalAveragePooling2D()(a)
    b = k.layers.Reshape((64, 3))(inputs)
    b = k.layers.MaxPooling1D(2)(b)
    b = k.layers.AveragePooling1D(2)(b)
    b = k.layers.GlobalMaxPooling1D()(b)
    c = k.layers.GlobalMaxPooling2D(keepdims=True)(inputs)
    c = k.layers.Flatten()(c)
    return k.Model(inputs, k.layers.Concatenate()([a, b, c])), (8, 8, 3)


def _normalization(k):
    return k.Sequential([
        k.Input((6, 4)),
        k.layers.BatchNormalization(momentum=0.9, epsilon=1e-3),
        k.layers.LayerNormalization(),
        k.layers.GroupNormalization(groups=2),
        k.layers.UnitNormalization(),
        k.layers.RMSNormalization(),
    ]), (6, 4)


def _merging(k):
    a, b = k.Input((4,)), k.Input((4,))
    outs = [k.layers.Add()([a, b]), k.layers.Subtract()([a, b]), k.layers.Multiply()([a, b]),
            k.layers.Average()([a, b]), k.layers.Maximum()([a, b]), k.layers.Minimum()([a, b]),
            k.layers.Dot(axes=1)([a, b])]
    return k.Model([a, b], k.layers.Concatenate(axis=-1)(outs)), [(4,), (4,)]


def _reshaping(k):
    return k.Sequential([
        k.Input((4, 4, 2)),
        k.layers.ZeroPadding2D(1),
        k.layers.Cropping2D(((1, 0), (0, 1))),
        k.layers.UpSampling2D(2),
        k.layers.Permute((2, 1, 3)),
        k.layers.Reshape((-1, 4)),
        k.layers.Flatten(),
        k.layers.RepeatVector(2),
    ]), (4, 4, 2)


def _embedding(k):
    return k.Sequential([
        k.Input((5,), dtype="int32"),
        k.layers.Embedding(10, 4, mask_zero=True),
        k.layers.GlobalAveragePooling1D(),
        k.layers.Dense(2),
    ]), "tokens"


def _rnn(k):
    inputs = k.Input((5, 3))
    x = k.layers.LSTM(4, return_sequences=True)(inputs)
    x = k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True))(x)
    x = k.layers.TimeDistributed(k.layers.Dense(2))(x)
    x = k.layers.SimpleRNN(3)(x)
    return k.Model(inputs, x), (5, 3)


def _attention(k):
    q, v = k.Input((4, 6)), k.Input((3, 6))
    a = k.layers.MultiHeadAttention(num_heads=2, key_dim=3)(q, v)
    b = k.layers.Attention()([q, v])
    c = k.layers.AdditiveAttention()([q, v])
    d = k.layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")(q)
    e = k.layers.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)(q, v)
    return k.Model([q, v], k.layers.Concatenate()([a, b, c, d, e])), [(4, 6), (3, 6)]


def _dropout_noise(k):
    return k.Sequential([
        k.Input((6, 4)),
        k.layers.Dropout(0.3, seed=1),
        k.layers.SpatialDropout1D(0.2),
        k.layers.GaussianNoise(0.1),
        k.layers.GaussianDropout(0.1),
        k.layers.AlphaDropout(0.1),
        k.layers.ActivityRegularization(l1=0.01),
        k.layers.Masking(0.0),
        k.layers.Flatten(),
        k.layers.Dense(2),
    ]), (6, 4)


def _activation_layers(k):
    return k.Sequential([
        k.Input((6,)),
        k.layers.Dense(6, activation=k.layers.LeakyReLU(negative_slope=0.2)),
        k.layers.PReLU(alpha_initializer=k.initializers.Constant(0.3)),
        k.layers.ELU(alpha=0.5),
        k.layers.ReLU(max_value=1.5, negative_slope=0.1),
        k.layers.Dense(4, activation="gelu", kernel_initializer=k.initializers.VarianceScaling(2.0, "fan_out")),
        k.layers.Softmax(axis=-1),
    ]), (6,)


def _rnn_cells(k):
    inputs = k.Input((5, 3))
    x = k.layers.Masking(0.0)(inputs)
    x = k.layers.RNN(k.layers.StackedRNNCells([k.layers.LSTMCell(4), k.layers.GRUCell(3)]),
                     return_sequences=True)(x)
    x = k.layers.Bidirectional(k.layers.LSTM(2, go_backwards=False), merge_mode="sum")(x)
    y = k.layers.RNN(k.layers.SimpleRNNCell(2), go_backwards=True)(inputs)
    return k.Model(inputs, k.layers.Concatenate()([x, y])), (5, 3)


def _channels_first(k):
    return k.Sequential([
        k.Input((3, 8, 8)),
        k.layers.Conv2D(4, 3, data_format="channels_first", use_bias=False),
        k.layers.BatchNormalization(axis=1),
        k.layers.MaxPooling2D(2, data_format="channels_first"),
        k.layers.UpSampling2D(2, data_format="channels_first"),
        k.layers.GlobalAveragePooling2D(data_format="channels_first"),
    ]), (3, 8, 8)


def _mixed_precision(k):
    return k.Sequential([
        k.Input((6,)),
        k.layers.Dense(4, dtype="mixed_bfloat16"),
        k.layers.LayerNormalization(dtype="float32"),
        k.layers.Dense(2, dtype="float32"),
    ]), (6,)


def _padding_cropping_groups(k):
    return k.Sequential([
        k.Input((6, 6, 4)),
        k.layers.Conv2D(4, 3, groups=2, padding="same"),
        k.layers.ZeroPadding2D(((1, 2), (0, 1))),
        k.layers.Identity(),
        k.layers.Reshape((9 * 7, 4)),
        k.layers.Cropping1D((1, 2)),
        k.layers.UpSampling1D(2),
        k.layers.Conv1D(2, 1),
        k.layers.Dropout(0.1, noise_shape=(None, 1, 2)),
    ]), (6, 6, 4)


def _volumes(k):
    return k.Sequential([
        k.Input((4, 4, 4, 2)),
        k.layers.ZeroPadding3D(1),
        k.layers.Cropping3D(1),
        k.layers.UpSampling3D(2),
        k.layers.MaxPooling3D(2),
        k.layers.AveragePooling3D(2),
        k.layers.GlobalMaxPooling3D(),
    ]), (4, 4, 4, 2)


def _wrappers(k):
    inputs = k.Input((3, 6, 6, 2))
    x = k.layers.TimeDistributed(k.layers.Conv2D(2, 3))(inputs)
    x = k.layers.TimeDistributed(k.layers.Flatten())(x)
    x = k.layers.Bidirectional(k.layers.LSTM(3, return_sequences=True), merge_mode="ave",
                               backward_layer=k.layers.LSTM(3, return_sequences=True, go_backwards=True))(x)
    x = k.layers.MultiHeadAttention(2, 2, value_dim=3, attention_axes=(1,), output_shape=(4,))(x, x)
    x = k.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 2), bias_axes="de", activation="relu")(x)
    return k.Model(inputs, x), (3, 6, 6, 2)


def _lora(k):
    model = k.Sequential([k.Input((4,)), k.layers.Dense(3)])
    model.layers[0].enable_lora(2)
    return model, (4,)


FAMILIES = {"padding_cropping_groups": _padding_cropping_groups, "volumes": _volumes, "wrappers": _wrappers,
            "lora": _lora, "activation_layers": _activation_layers, "rnn_cells": _rnn_cells,
            "channels_first": _channels_first,
            "mixed_precision": _mixed_precision, "core": _core, "conv": _conv, "conv1d3d": _conv1d3d,
            "pooling": _pooling, "normalization": _normalization, "merging": _merging, "reshaping": _reshaping,
            "embedding": _embedding, "rnn": _rnn, "attention": _attention, "dropout_noise": _dropout_noise}


def _inputs(shapes, batch=3, seed=0):
    if shapes == "tokens":
        return np.random.default_rng(seed).integers(0, 10, size=(batch, 5)).astype("int32")
    if isinstance(shapes, list):
        return [random_array((batch, *s), seed=seed + i) for i, s in enumerate(shapes)]
    return random_array((batch, *shapes), seed=seed)


def _randomize(model, seed=0):
    """Non-default values for every weight (moving statistics too), so a dropped weight shows."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) if np.issubdtype(w.dtype, np.floating)
                       else w for w in model.get_weights()])


def _keras_name(layer):
    return getattr(type(layer), "_keras_class_name", type(layer).__name__)


def _class_names(model):
    return {layer.name: _keras_name(layer) for layer in model.layers}


def _layer_configs(model):
    """Each layer's (Keras class name, config), in the order the model's config lists them."""
    order = [entry.get("name") or entry["config"]["name"] for entry in model.get_config()["layers"]]
    layers = {layer.name: layer for layer in model.layers}
    names = order if order and all(n in layers for n in order) else list(layers)
    return [(_keras_name(layers[n]), layers[n].get_config()) for n in names]


def _assert_same_model(loaded, model, shapes, family):
    if family != "lora":  # a LoRA kernel is saved merged; the loaded layer holds it with fresh LoRA factors
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(np.asarray(a, dtype="float32"), np.asarray(b, dtype="float32"))
    x = _inputs(shapes)
    # bfloat16 compute rounds differently in the two libraries: the file holds the same weights either way.
    rtol = 2e-2 if family == "mixed_precision" else 1e-5
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_keras_file_loads_in_cornu(family, tmp_path):
    model, shapes = FAMILIES[family](keras)
    _randomize(model)
    path = str(tmp_path / "k.keras")
    model.save(path)
    loaded = cornu.saving.load_model(path)
    _assert_same_model(loaded, model, shapes, family)
    assert _class_names(loaded) == _class_names(model)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cornu_file_loads_in_keras(family, tmp_path):
    model, shapes = FAMILIES[family](cornu)
    _randomize(model)
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    _assert_same_model(loaded, model, shapes, family)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_layer_configs_equal_keras(family):
    ours, _ = FAMILIES[family](cornu)
    theirs, _ = FAMILIES[family](keras)
    for (name_a, a), (name_b, b) in zip(_layer_configs(ours), _layer_configs(theirs)):
        assert (name_a, _unnamed(a)) == (name_b, _unnamed(b))


def _unnamed(config):
    """A config without the auto-generated ``name`` keys (at any depth): the counters differ per library."""
    if isinstance(config, dict):
        return {key: _unnamed(value) for key, value in config.items() if key != "name"}
    if isinstance(config, (list, tuple)):
        return [_unnamed(value) for value in config]
    return config


def _compiled(k, optimizer):
    # No bias before BatchNormalization: its gradient is float noise, which Adam would amplify differently.
    model = k.Sequential([k.Input((6,)), k.layers.Dense(5, activation="relu", use_bias=False),
                          k.layers.BatchNormalization(), k.layers.Dense(3, activation="softmax")])
    _randomize(model)
    model.compile(optimizer=getattr(k.optimizers, optimizer["class_name"])(**optimizer["config"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _batch(seed=0):
    return random_array((8, 6), seed=seed), np.random.default_rng(seed).integers(0, 3, size=(8,))


def _assert_same_step(original, loaded):
    """One more ``train_on_batch`` in each library gives the same loss and the same weights."""
    x, y = _batch(seed=1)
    loss_a = original.train_on_batch(x, y, return_dict=True)["loss"]
    loss_b = loaded.train_on_batch(x, y, return_dict=True)["loss"]
    assert_close(loss_b, loss_a, rtol=1e-5)
    for a, b in zip(loaded.get_weights(), original.get_weights()):
        assert_close(a, b, rtol=1e-4, atol=1e-6)


OPTIMIZERS = [{"class_name": "Adam", "config": {"learning_rate": 0.01}},
              {"class_name": "Adam", "config": {"learning_rate": 0.01, "amsgrad": True, "clipnorm": 1.0}},
              {"class_name": "Adagrad", "config": {"learning_rate": 0.1}},
              {"class_name": "Adadelta", "config": {"learning_rate": 1.0}},
              {"class_name": "Adamax", "config": {"learning_rate": 0.01}},
              {"class_name": "Nadam", "config": {"learning_rate": 0.01}},
              {"class_name": "Ftrl", "config": {"learning_rate": 0.1}},
              {"class_name": "Lion", "config": {"learning_rate": 0.01}},
              {"class_name": "Lamb", "config": {"learning_rate": 0.01}},
              {"class_name": "Adafactor", "config": {"learning_rate": 0.01}},
              {"class_name": "SGD", "config": {"learning_rate": 0.1, "use_ema": True}},
              {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}},
              {"class_name": "RMSprop", "config": {"learning_rate": 0.01, "momentum": 0.5}},
              {"class_name": "AdamW", "config": {"learning_rate": 0.01, "weight_decay": 0.1}}]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join([o["class_name"], *sorted(o["config"])]))
def test_compiled_keras_file_trains_on_in_cornu(optimizer, tmp_path):
    model = _compiled(keras, optimizer)
    model.train_on_batch(*_batch())
    path = str(tmp_path / "k.keras")
    model.save(path)
    loaded = cornu.saving.load_model(path)
    assert loaded.compiled and type(loaded.optimizer).__name__ == optimizer["class_name"]
    assert int(loaded.optimizer.iterations) == 1
    assert [tuple(v.shape) for v in loaded.optimizer.variables] == [tuple(v.shape) for v in model.optimizer.variables]
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        assert_close(a, np.asarray(b), rtol=1e-6)
    _assert_same_step(model, loaded)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join([o["class_name"], *sorted(o["config"])]))
def test_compiled_cornu_file_trains_on_in_keras(optimizer, tmp_path):
    model = _compiled(cornu, optimizer)
    model.train_on_batch(*_batch())
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.compiled and type(loaded.optimizer).__name__ == optimizer["class_name"]
    assert int(loaded.optimizer.iterations) == 1
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        assert_close(np.asarray(a), b, rtol=1e-6)
    _assert_same_step(model, loaded)


def test_compile_and_build_configs_equal_keras():
    ours, theirs = _compiled(cornu, OPTIMIZERS[0]), _compiled(keras, OPTIMIZERS[0])
    ours_config, theirs_config = ours.get_compile_config(), theirs.get_compile_config()
    # Keras names its torch-backend optimizer class's module; the optimizer's own config must match.
    ours_optimizer, theirs_optimizer = ours_config.pop("optimizer")["config"], theirs_config.pop("optimizer")["config"]
    assert {**ours_optimizer, "name": None} == {**theirs_optimizer, "name": None}
    assert ours_config == theirs_config
    assert cornu.Sequential([cornu.layers.Dense(2)]).get_compile_config() == {}
    assert ours.get_build_config() == theirs.get_build_config()
    assert ours.layers[0].get_build_config() == theirs.layers[0].get_build_config()


def test_compile_from_config_takes_keras_config():
    theirs = _compiled(keras, {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}})
    ours = FAMILIES["core"](cornu)[0]
    ours.compile_from_config(theirs.get_compile_config())
    assert ours.compiled and type(ours.optimizer).__name__ == "SGD"
    assert ours.optimizer.get_config() == theirs.optimizer.get_config()


def test_build_from_config_both_ways():
    built_ours, built_theirs = cornu.layers.Dense(3), keras.layers.Dense(3)
    built_ours.build((None, 4))
    built_theirs.build((None, 4))
    assert built_ours.get_build_config() == built_theirs.get_build_config()
    ours, theirs = cornu.layers.Dense(3), keras.layers.Dense(3)
    ours.build_from_config(built_theirs.get_build_config())
    theirs.build_from_config(built_ours.get_build_config())
    assert ours.built and theirs.built and tuple(ours.kernel.shape) == tuple(theirs.kernel.shape) == (4, 3)


@pytest.mark.parametrize("family", ["core", "conv", "rnn"])
def test_to_json_both_ways(family):
    ours, _ = FAMILIES[family](cornu)
    theirs, _ = FAMILIES[family](keras)
    from_keras = cornu.models.model_from_json(theirs.to_json())
    from_cornu = keras.models.model_from_json(ours.to_json())
    assert _class_names(from_keras) == _class_names(theirs)
    assert _class_names(from_cornu) == _class_names(ours)
    assert [w.shape for w in from_keras.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert [w.shape for w in from_cornu.get_weights()] == [tuple(w.shape) for w in ours.get_weights()]


def _multi_output(k):
    inputs = k.Input((6,), name="x")
    trunk = k.Sequential([k.layers.Dense(5, activation="tanh"), k.layers.Dense(4, activation="relu")], name="trunk")
    h = trunk(inputs)
    cls = k.layers.Dense(3, activation="softmax", name="cls")(h)
    reg = k.layers.Dense(1, name="reg")(h)
    model = k.Model(inputs, {"cls": cls, "reg": reg})
    _randomize(model)
    schedule = k.optimizers.schedules.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)
    model.compile(optimizer=k.optimizers.Adam(schedule),
                  loss={"cls": k.losses.SparseCategoricalCrossentropy(), "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5},
                  metrics={"cls": [k.metrics.SparseCategoricalAccuracy()], "reg": ["mae"]})
    return model


def _multi_batch(seed=0):
    x, y = _batch(seed)
    return x, {"cls": y, "reg": random_array((8, 1), seed=seed + 5)}


@pytest.mark.parametrize("direction", ["keras_to_cornu", "cornu_to_keras"])
def test_multi_output_nested_model_with_schedule_trains_on(direction, tmp_path):
    source, target = (keras, cornu) if direction == "keras_to_cornu" else (cornu, keras)
    model = _multi_output(source)
    model.train_on_batch(*_multi_batch())
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = target.saving.load_model(path)
    x, y = _multi_batch(seed=1)
    logs_a = model.train_on_batch(x, y, return_dict=True)
    logs_b = loaded.train_on_batch(x, y, return_dict=True)
    assert sorted(logs_a) == sorted(logs_b)
    for key in logs_a:
        assert_close(logs_b[key], logs_a[key], rtol=1e-5)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_multi_output_compile_config_equal_keras():
    ours, theirs = _multi_output(cornu).get_compile_config(), _multi_output(keras).get_compile_config()
    for key in ("loss_weights", "metrics", "weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile"):
        assert ours[key] == theirs[key], key
    assert ours["loss"]["reg"] == theirs["loss"]["reg"]
    assert ours["optimizer"]["config"]["learning_rate"] == theirs["optimizer"]["config"]["learning_rate"]


@pytest.mark.parametrize("direction", ["keras_to_cornu", "cornu_to_keras"])
def test_weights_file_of_nested_model_loads(direction, tmp_path):
    source, target = (keras, cornu) if direction == "keras_to_cornu" else (cornu, keras)
    model, other = _multi_output(source), _multi_output(target)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    other.load_weights(path)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _register_scaled_dense(k):
    @k.saving.register_keras_serializable(package="files_oracle")
    class ScaledDense(k.layers.Dense):
        def __init__(self, units, factor=2.0, **kwargs):
            super().__init__(units, **kwargs)
            self.factor = factor

        def call(self, inputs):
            return super().call(inputs) * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return ScaledDense


@pytest.mark.parametrize("direction", ["keras_to_cornu", "cornu_to_keras"])
def test_registered_custom_layer_loads(direction, tmp_path):
    source, target = (keras, cornu) if direction == "keras_to_cornu" else (cornu, keras)
    source_cls, _ = _register_scaled_dense(source), _register_scaled_dense(target)
    model = source.Sequential([source.Input((4,)), source_cls(3, factor=3.0)])
    _randomize(model)
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = target.saving.load_model(path)
    assert type(loaded.layers[0]).__name__ == "ScaledDense" and loaded.layers[0].factor == 3.0
    x = random_array((2, 4))
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _ops_graph(k):
    inputs = k.Input((4,), name="x")
    hidden = k.layers.Dense(4, name="d")(inputs)
    out = k.ops.concatenate([hidden + inputs, hidden[:, 1:3] * 2.0, k.ops.sum(hidden, axis=-1, keepdims=True),
                             k.ops.exp(inputs), k.ops.mean(k.ops.square(hidden), axis=1, keepdims=True)], axis=-1)
    return k.Model(inputs, out)


def _op_entries(model):
    """The op entries of a functional config, without the per-library auto-generated names."""
    import json

    def strip(x):
        if isinstance(x, dict):
            return {k: (v[1:] if k == "keras_history" else strip(v)) for k, v in x.items() if k != "name"}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    entries = [e for e in model.get_config()["layers"] if e["module"].startswith("keras.src.ops.")]
    return strip(json.loads(json.dumps(entries)))


def test_ops_in_functional_graph_written_as_keras():
    ours, theirs = _op_entries(_ops_graph(cornu)), _op_entries(_ops_graph(keras))
    assert ours and ours == theirs


@pytest.mark.parametrize("direction", ["keras_to_cornu", "cornu_to_keras"])
def test_ops_in_functional_graph_load(direction, tmp_path):
    source, target = (keras, cornu) if direction == "keras_to_cornu" else (cornu, keras)
    model = _ops_graph(source)
    path = str(tmp_path / "o.keras")
    model.save(path)
    loaded = target.saving.load_model(path)
    x = random_array((3, 4))
    assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
