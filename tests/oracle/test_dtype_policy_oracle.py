"""Dtype policies and mixed precision against real Keras 3.15 (torch backend).

Policies: names, dtypes, configs, reprs and error classes. Layers under each policy: layer and weight
dtypes, output dtypes, configs, and outputs from the same weights (within the compute dtype's rounding).
compile: the LossScaleOptimizer wrapping.
"""
import json

import numpy as np
import pytest
import torch

from tests.helpers import keras_oracle_module, random_array

keras_ref = keras_oracle_module()

import cornu  # noqa: E402
from cornu.dtype_policies import dtype_policy as dtype_policy_module  # noqa: E402

NAMES = ["float32", "float16", "bfloat16", "float64", "int32", "int", "uint8", "bool", "complex64",
         "mixed_float16", "mixed_bfloat16"]
POLICIES = ["float32", "float64", "bfloat16", "mixed_bfloat16", "mixed_float16"]
TOL = {"float32": 1e-5, "float64": 2e-6, "bfloat16": 3e-2, "mixed_bfloat16": 3e-2, "mixed_float16": 4e-3}


@pytest.fixture(autouse=True)
def restore_global_policies(monkeypatch):
    """Both libraries end each test with their default global policy."""
    monkeypatch.setattr(dtype_policy_module, "_GLOBAL_POLICY", None)
    yield
    keras_ref.config.set_dtype_policy("float32")


def raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return type(e)
    return None


def described(policy):
    return (policy.name, policy.compute_dtype, policy.variable_dtype, policy.quantization_mode, policy.get_config(),
            repr(policy))


def as64(x):
    if isinstance(x, torch.Tensor):
        return x.detach().double().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


@pytest.mark.parametrize("name", NAMES)
def test_policies_match(name):
    ours, ref = cornu.dtype_policies.DTypePolicy(name), keras_ref.dtype_policies.DTypePolicy(name)
    assert described(ours) == described(ref)
    assert cornu.dtype_policies.serialize(ours) == keras_ref.dtype_policies.serialize(ref)
    assert described(cornu.dtype_policies.get(name)) == described(keras_ref.dtype_policies.get(name))


@pytest.mark.parametrize("name", ["mixed_float32", "foo", "float", "double", "half", "Float32", "int4", 1, 2.5])
def test_bad_names_raise_the_same_class(name):
    assert raised(lambda: cornu.dtype_policies.DTypePolicy(name)) \
        == raised(lambda: keras_ref.dtype_policies.DTypePolicy(name)) is not None
    assert raised(lambda: cornu.dtype_policies.get(name)) == raised(lambda: keras_ref.dtype_policies.get(name))
    assert raised(lambda: cornu.config.set_dtype_policy(name)) \
        == raised(lambda: keras_ref.config.set_dtype_policy(name)) is not None
    assert raised(lambda: cornu.layers.Dense(2, dtype=name)) == raised(lambda: keras_ref.layers.Dense(2, dtype=name))


@pytest.mark.parametrize("identifier", [None, np.float64, np.dtype("float16"), torch.bfloat16, [1],
                                        {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}},
                                        {"class_name": "FloatDTypePolicy", "config": {"name": "bfloat16"}},
                                        {"module": "keras", "class_name": "DTypePolicy",
                                         "config": {"name": "float16"}, "registered_name": None}])
def test_get_matches(identifier):
    error = raised(lambda: keras_ref.dtype_policies.get(identifier))
    assert raised(lambda: cornu.dtype_policies.get(identifier)) == error
    if error is None:
        ours, ref = cornu.dtype_policies.get(identifier), keras_ref.dtype_policies.get(identifier)
        assert described(ours) == described(ref) and type(ours).__name__ == type(ref).__name__


def test_float_dtype_policy_and_round_trips_match():
    ours, ref = cornu.dtype_policies.FloatDTypePolicy("mixed_float16"), \
        keras_ref.dtype_policies.FloatDTypePolicy("mixed_float16")
    assert described(ours) == described(ref)
    written = keras_ref.dtype_policies.serialize(ref)
    assert cornu.dtype_policies.serialize(ours) == written
    assert described(cornu.dtype_policies.deserialize(json.loads(json.dumps(written)))) == described(ref)
    assert (ours == cornu.dtype_policies.DTypePolicy("mixed_float16")) \
        == (ref == keras_ref.dtype_policies.DTypePolicy("mixed_float16"))


def _maps(lib):
    p = lib.dtype_policies.DTypePolicy
    return lib.dtype_policies.DTypePolicyMap(default_policy=p("mixed_float16"), policy_map={
        "dense.*": p("bfloat16"), "dense_1.*": p("float16"), "x": p("float64")})


def test_policy_maps_match():
    ours, ref = _maps(cornu), _maps(keras_ref)
    assert cornu.dtype_policies.serialize(ours) == keras_ref.dtype_policies.serialize(ref)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype) == (ref.name, ref.compute_dtype, ref.variable_dtype)
    for path in ("x", "dense", "dense_2/kernel", "model/dense", "y", "dense_1/kernel"):
        error = raised(lambda: ref[path])
        assert raised(lambda: ours[path]) == error
        if error is None:
            assert described(ours[path]) == described(ref[path])
    assert sorted(ours) == sorted(ref) and len(ours) == len(ref)
    assert raised(lambda: ours.__setitem__("x", "float16")) == raised(lambda: ref.__setitem__("x", "float16"))
    written = json.loads(json.dumps(keras_ref.dtype_policies.serialize(ref)))
    assert cornu.dtype_policies.serialize(cornu.dtype_policies.deserialize(written)) == written
    for bad in ({"policy_map": [1]}, {"default_policy": "foo"},
                {"default_policy": cornu.dtype_policies.DTypePolicyMap()}):
        ref_bad = {k: keras_ref.dtype_policies.DTypePolicyMap() if isinstance(v, cornu.dtype_policies.DTypePolicyMap)
                   else v for k, v in bad.items()}
        assert raised(lambda: cornu.dtype_policies.DTypePolicyMap(**bad)) \
            == raised(lambda: keras_ref.dtype_policies.DTypePolicyMap(**ref_bad)) is not None


LAYERS = {
    "dense": (lambda lib, p: lib.layers.Dense(3, dtype=p, bias_initializer="glorot_uniform"), (2, 5)),
    "conv2d": (lambda lib, p: lib.layers.Conv2D(2, 3, dtype=p, bias_initializer="glorot_uniform"), (2, 6, 5, 3)),
    "batch_norm": (lambda lib, p: lib.layers.BatchNormalization(dtype=p), (4, 3)),
    "layer_norm": (lambda lib, p: lib.layers.LayerNormalization(dtype=p), (2, 6)),
    "softmax_activation": (lambda lib, p: lib.layers.Activation("softmax", dtype=p), (2, 5)),
    "softmax": (lambda lib, p: lib.layers.Softmax(dtype=p), (2, 5)),
    "embedding": (lambda lib, p: lib.layers.Embedding(6, 3, dtype=p), None),
    "max_pool": (lambda lib, p: lib.layers.MaxPooling2D(dtype=p), (2, 4, 4, 3)),
    "flatten": (lambda lib, p: lib.layers.Flatten(dtype=p), (2, 3, 2)),
    "dropout": (lambda lib, p: lib.layers.Dropout(0.5, dtype=p), (2, 5)),
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("kind", list(LAYERS))
def test_layers_under_a_policy_match(kind, policy):
    make, shape = LAYERS[kind]
    ours, ref = make(cornu, policy), make(keras_ref, policy)
    x = np.array([[0, 5, 2], [1, 1, 4]]) if shape is None else random_array(shape, seed=3, low=0.0, high=2.0)
    ref(x)  # builds Keras's layer; cornu's gets the same weights
    weights = [np.asarray(w, dtype="float32") for w in ref.get_weights()]
    ours.build(x.shape)
    ours.set_weights(weights)
    training = {"training": True} if kind == "batch_norm" else {}
    y = ours(x, **training)
    ref_y = ref(x, **training)
    assert (ours.dtype, ours.compute_dtype, ours.variable_dtype, ours.dtype_policy.name) \
        == (ref.dtype, ref.compute_dtype, ref.variable_dtype, ref.dtype_policy.name)
    assert [w.dtype for w in ours.weights] == [w.dtype for w in ref.weights]
    assert y.dtype == ref_y.dtype
    assert ours.get_config()["dtype"] == ref.get_config()["dtype"]
    expected = as64(ref_y)
    tol = TOL[policy]
    np.testing.assert_allclose(as64(y), expected, rtol=tol, atol=tol * max(1.0, float(np.abs(expected).max())))
    if kind == "batch_norm":
        for w, r in zip(ours.weights, ref.weights):
            np.testing.assert_allclose(as64(w.value), as64(r.value), rtol=tol, atol=tol)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_global_policy_and_models_match(policy):
    cornu.config.set_dtype_policy(policy)
    keras_ref.config.set_dtype_policy(policy)
    assert described(cornu.config.dtype_policy()) == described(keras_ref.config.dtype_policy())
    x = random_array((2, 4), seed=4)
    results = []
    for lib in (cornu, keras_ref):
        inputs = lib.Input((4,))
        hidden = lib.layers.Dense(3)(inputs)
        outputs = lib.layers.Activation("softmax", dtype="float32")(hidden)
        model = lib.Model(inputs, outputs)
        sequential = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        results.append((inputs.dtype, hidden.dtype, outputs.dtype, str(model(x).dtype), str(sequential(x).dtype),
                        model.dtype_policy.name, sequential.layers[0].get_config()["dtype"],
                        [w.dtype for w in model.weights]))
    assert results[0] == results[1]


def _head(lib, scale):
    class Head(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(2)
            self.out = lib.layers.Activation("softmax", dtype="float32")

        def call(self, x):
            return self.dense(x) * scale if scale else self.out(self.dense(x))

    return Head(dtype="mixed_bfloat16")


COMPOSITES = {
    "subclassed_float32_head": (lambda lib: _head(lib, None), 2),
    "subclassed_own_op": (lambda lib: _head(lib, 2.0), 2),
    "bidirectional": (lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(3), dtype="mixed_bfloat16"), 3),
    "time_distributed": (lambda lib: lib.layers.TimeDistributed(lib.layers.Dense(2), dtype="mixed_bfloat16"), 3),
    "lstm": (lambda lib: lib.layers.LSTM(3, dtype="mixed_bfloat16"), 3),
    "prelu": (lambda lib: lib.layers.PReLU(dtype="mixed_bfloat16"), 2),
    "einsum_dense": (lambda lib: lib.layers.EinsumDense("ab,bc->ac", 3, bias_axes="c", dtype="mixed_bfloat16"), 2),
}


@pytest.mark.parametrize("kind", list(COMPOSITES))
def test_output_dtypes_of_composite_layers_match(kind):
    make, rank = COMPOSITES[kind]
    x = random_array((2, 5, 4)[:rank], seed=5)
    assert make(cornu)(x).dtype == make(keras_ref)(x).dtype


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "float32"])
@pytest.mark.parametrize("auto_scale_loss", [True, False])
def test_compile_wraps_the_optimizer_as_keras(policy, auto_scale_loss):
    cornu.config.set_dtype_policy(policy)
    keras_ref.config.set_dtype_policy(policy)
    found = []
    for lib in (cornu, keras_ref):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        model.compile(optimizer=lib.optimizers.Adam(name="adam"), loss="mse", auto_scale_loss=auto_scale_loss)
        optimizer = model.optimizer
        config = optimizer.get_config()
        found.append((type(optimizer).__name__, config["name"], config.get("initial_scale"),
                      config.get("dynamic_growth_steps"), type(getattr(optimizer, "inner_optimizer", None)).__name__))
    assert found[0] == found[1]


def test_configs_load_across_libraries():
    ref = keras_ref.layers.Dense(2, dtype="mixed_float16", name="d")
    written = json.loads(json.dumps(keras_ref.saving.serialize_keras_object(ref)))
    ours = cornu.saving.deserialize_keras_object(written)
    assert described(ours.dtype_policy) == described(ref.dtype_policy)
    assert ours.get_config()["dtype"] == ref.get_config()["dtype"]
    mine = json.loads(json.dumps(cornu.saving.serialize_keras_object(cornu.layers.Dense(2, dtype="mixed_bfloat16"))))
    assert described(keras_ref.saving.deserialize_keras_object(mine).dtype_policy) \
        == described(cornu.dtype_policies.DTypePolicy("mixed_bfloat16"))
