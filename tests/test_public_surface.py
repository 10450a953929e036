"""keras.config switches, keras.backend dtype helpers, and the top-level names (base classes, scopes, remat,
Operation / Function, layers.serialize): plain tests and differential tests against Keras."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import cornu as keras
from cornu import backend, config
from tests.helpers import assert_close, random_array

DTYPES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "bfloat16", "float16",
          "float32", "float64"]


# ------------------------------------------------------------------ keras.config
def test_config_switches_read_back():
    assert config.is_traceback_filtering_enabled()
    config.disable_traceback_filtering()
    assert not config.is_traceback_filtering_enabled()
    config.enable_traceback_filtering()
    assert config.is_traceback_filtering_enabled()
    assert config.is_flash_attention_enabled() is None
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is None
    assert config.is_nnx_enabled() is False
    config.set_backend("torch")
    with pytest.raises(ValueError, match="jax"):
        config.set_backend("jax")


def test_config_switches_match_keras(keras_ref):
    kc = keras_ref.config
    assert config.is_flash_attention_enabled() == kc.is_flash_attention_enabled()
    for name in ("disable_flash_attention", "enable_flash_attention", "disable_traceback_filtering",
                 "enable_traceback_filtering", "disable_interactive_logging", "enable_interactive_logging"):
        getattr(kc, name)()
        getattr(config, name)()
        assert config.is_flash_attention_enabled() == kc.is_flash_attention_enabled(), name
        assert config.is_traceback_filtering_enabled() == kc.is_traceback_filtering_enabled(), name
        assert config.is_interactive_logging_enabled() == kc.is_interactive_logging_enabled(), name
    assert config.is_nnx_enabled() == kc.is_nnx_enabled()


# ------------------------------------------------------------------ keras.backend
def test_dtype_classes():
    assert [d for d in DTYPES if backend.is_float_dtype(d)] == ["bfloat16", "float16", "float32", "float64"]
    assert [d for d in DTYPES if backend.is_int_dtype(d)] == DTYPES[1:9]
    assert backend.is_float_dtype(torch.float32) and backend.is_int_dtype(np.int16)
    assert not backend.is_float_dtype("complex64") and not backend.is_int_dtype("bool")


def test_result_type_rules():
    r = backend.result_type
    assert r() == config.floatx()
    assert r("int32", "float16") == "float16"  # integers defer to any float
    assert r("uint8", "int8") == "int16"  # unsigned and signed meet at the next wider signed type
    assert r("uint64", "int8") == "float32"  # ...or at a float when none is wide enough
    assert r("bfloat16", "float16") == "float32"
    assert r(int, "int8") == "int8" and r(float, "float16") == "float16"  # Python scalars are weak
    assert r(int) == "int32" and r(float, int) == "float32" and r("bool", "bool") == "bool"
    assert r("int64", "int64") == "int32" and r("float64") == "float32"  # Keras narrows 64-bit results
    with pytest.raises(ValueError):
        r("foo")


def test_get_uid_and_is_keras_tensor():
    keras.backend.clear_session()
    assert [backend.get_uid("x"), backend.get_uid("x"), backend.get_uid("y"), backend.get_uid()] == [1, 2, 1, 1]
    keras.backend.clear_session()
    assert backend.get_uid("x") == 1
    assert backend.is_keras_tensor(keras.Input((2,))) and not backend.is_keras_tensor(torch.ones(1))
    assert backend.standardize_dtype(torch.float16) == "float16"


def test_backend_matches_keras(keras_ref):
    kb = keras_ref.backend
    for a in DTYPES + [int, float]:
        if a in DTYPES:
            assert backend.is_float_dtype(a) == kb.is_float_dtype(a), a
            assert backend.is_int_dtype(a) == kb.is_int_dtype(a), a
        assert backend.result_type(a) == kb.result_type(a), a
        for b in DTYPES + [int, float]:
            assert backend.result_type(a, b) == kb.result_type(a, b), (a, b)
    assert backend.result_type("int8", "uint16", "float16") == kb.result_type("int8", "uint16", "float16")
    assert backend.result_type() == kb.result_type()
    with pytest.raises(ValueError):
        kb.result_type("foo")
    keras_ref.backend.clear_session()
    keras.backend.clear_session()
    assert [backend.get_uid("p") for _ in range(3)] == [kb.get_uid("p") for _ in range(3)]
    assert kb.is_keras_tensor(keras_ref.Input((2,))) == backend.is_keras_tensor(keras.Input((2,)))


# ------------------------------------------------------------------ top-level names
def test_base_classes_are_the_namespace_classes():
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer and keras.Initializer is keras.initializers.Initializer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert keras.DTypePolicy is keras.dtype_policies.DTypePolicy
    assert keras.FloatDTypePolicy is keras.dtype_policies.FloatDTypePolicy
    assert isinstance(keras.losses.MeanSquaredError(), keras.Loss)
    assert isinstance(keras.layers.Dense(2), keras.Operation)
    assert keras.tree.flatten({"b": 1, "a": 2}) == [2, 1]


def test_stateless_scope_reads_mapped_values_and_restores():
    v = keras.Variable(np.ones((2, 3), "float32"), name="v")
    dense = keras.layers.Dense(2, name="ds")
    dense.build((None, 3))
    new_kernel = random_array((3, 2), seed=1)
    before = dense.kernel.numpy().copy()
    x = random_array((4, 3), seed=2)
    with keras.StatelessScope(state_mapping=[(v, np.zeros((2, 3))), (dense.kernel, new_kernel)]) as scope:
        assert_close(v.numpy(), np.zeros((2, 3)))
        assert_close(dense(torch.from_numpy(x)).detach(), x.astype("float64") @ new_kernel)
        v.assign(np.full((2, 3), 7.0))
        assert_close(scope.get_current_value(v), np.full((2, 3), 7.0))
    assert_close(v.numpy(), np.ones((2, 3)))
    assert_close(dense.kernel.numpy(), before)
    assert_close(scope.get_current_value(v), np.full((2, 3), 7.0))
    assert scope.get_current_value(keras.Variable(1.0)) is None
    with pytest.raises(ValueError):
        keras.StatelessScope(state_mapping=[(v, np.zeros((3, 3)))])
    with pytest.raises(ValueError):
        keras.StatelessScope(state_mapping=[("v", 1.0)])


def test_stateless_scope_matches_keras(keras_ref):
    kv, cv = keras_ref.Variable(np.ones(3, "float32")), keras.Variable(np.ones(3, "float32"))
    values = []
    for lib, v in ((keras_ref, kv), (keras, cv)):
        with lib.StatelessScope(state_mapping=[(v, np.arange(3.0))]) as scope:
            inside = np.asarray(v.numpy()).copy()
            v.assign(np.full(3, 5.0))
        values.append((inside, np.asarray(scope.get_current_value(v)), np.asarray(v.numpy())))
    for k, c in zip(*values):
        assert_close(c, k)


def test_name_scope_symbolic_scope_and_device():
    from cornu.scopes import current_path, in_symbolic_scope

    with keras.name_scope("outer"):
        with keras.name_scope("inner") as scope:
            assert current_path() == "outer/inner" and scope.name == "inner"
        with keras.name_scope("outer"):  # merged with its parent only for the same caller (as Keras)
            assert current_path() == "outer/outer"
        layer = object()
        with keras.name_scope("inner", caller=layer):
            with keras.name_scope("inner", caller=layer):
                assert current_path() == "outer/inner"
    assert current_path() == ""
    with pytest.raises(ValueError):
        keras.name_scope("a/b")
    assert not in_symbolic_scope()
    with keras.SymbolicScope():
        assert in_symbolic_scope()
    assert not in_symbolic_scope()
    previous = config.device()
    with keras.device("cpu"):
        assert torch.ones(2).device.type == "cpu" and config.device().type == "cpu"
    assert config.device() == previous
    with pytest.raises(ValueError):
        with keras.device(3):
            pass


def test_remat_gradients_equal_plain_ones():
    w = torch.tensor(random_array((4, 4), seed=3), requires_grad=True)
    x = torch.from_numpy(random_array((5, 4), seed=4))

    def f(t):
        return torch.tanh(t @ w).sum()

    f(x).backward()
    plain = w.grad.clone()
    w.grad = None
    keras.remat(f)(x).backward()
    assert_close(w.grad, plain)
    with torch.no_grad():
        assert_close(keras.remat(f)(x), f(x))


def test_remat_scope_modes():
    from cornu.remat import get_current_remat_mode

    assert get_current_remat_mode() is None
    with keras.RematScope(mode="larger_than", output_size_threshold=10) as scope:
        assert get_current_remat_mode() is scope and scope.output_size_threshold == 10
        with keras.RematScope(mode=None):
            assert get_current_remat_mode() is None
    with pytest.raises(ValueError, match="bogus"):
        keras.RematScope(mode="bogus")


def test_remat_matches_keras(keras_ref):
    x = random_array((3,), seed=5)
    assert_close(keras.remat(lambda t: t * 2.0)(torch.from_numpy(x)),
                 keras_ref.remat(lambda t: t * 2.0)(torch.from_numpy(x)))
    assert keras.RematScope(mode="full").mode == keras_ref.RematScope(mode="full").mode
    for lib in (keras, keras_ref):
        with pytest.raises(ValueError):
            lib.RematScope(mode="bogus")


class _AddOne(keras.Operation):
    def call(self, x):
        return x + 1


def test_operation_eager_and_symbolic():
    op = _AddOne(name="add_one")
    assert_close(op(torch.ones(2)), np.full(2, 2.0))
    x = keras.Input((3,))
    y = op(x)
    assert isinstance(y, keras.KerasTensor) and y.shape == (None, 3) and op.output is y and op.input is x
    assert op.get_config() == {"name": "add_one"} and _AddOne.from_config(op.get_config()).name == "add_one"
    with pytest.raises(ValueError):
        _AddOne(name="a/b")


def test_function_runs_the_graph():
    x = keras.Input((3,))
    dense = keras.layers.Dense(2, name="fd")
    y = keras.ops.relu(dense(x)) * 2.0
    fn = keras.Function(x, y)
    data = random_array((4, 3), seed=6)
    kernel, bias = dense.get_weights()
    assert_close(fn(torch.from_numpy(data)), 2.0 * np.maximum(data.astype("float64") @ kernel + bias, 0.0))
    assert fn.inputs == [x] and fn.outputs == [y] and dense in fn.operations
    assert fn.compute_output_shape((None, 3)) == (None, 2)
    with pytest.raises(ValueError):
        keras.Function(x, 3)


def test_operation_and_function_match_keras(keras_ref):
    data = np.array([[-1.0, 2.0, 3.0]], "float32")
    outs = []
    for lib in (keras_ref, keras):
        x = lib.Input((3,))
        fn = lib.Function(x, lib.ops.relu(x) * 2.0)
        outs.append(np.asarray(fn(torch.from_numpy(data))))
        assert len(fn.operations) == 3
    assert_close(outs[1], outs[0])
    assert isinstance(keras_ref.layers.Dense(2), keras_ref.Operation) == isinstance(keras.layers.Dense(2),
                                                                                      keras.Operation)


def test_layers_serialize_deserialize(keras_ref):
    layer = keras.layers.Dense(3, activation="relu", name="dz")
    config_ = keras.layers.serialize(layer)
    assert config_["class_name"] == "Dense" and config_["module"] == "keras.layers"
    restored = keras.layers.deserialize(config_)
    assert isinstance(restored, keras.layers.Dense) and restored.get_config() == layer.get_config()
    k_config = keras_ref.layers.serialize(keras_ref.layers.Dense(3, activation="relu", name="dz"))
    assert k_config == config_
    assert keras.layers.deserialize(k_config).get_config() == \
        keras_ref.layers.deserialize(k_config).get_config()
    for lib in (keras, keras_ref):
        with pytest.raises(ValueError):
            lib.layers.deserialize(lib.losses.serialize(lib.losses.MeanSquaredError()))


def _signature(fn) -> list:
    import inspect

    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


# Deliberate differences: ExportArchive.write_out takes the output format (torch has no SavedModel); the saving
# module's deserialize_keras_object takes module_objects and custom_object_scope names its argument `objects`.
SIGNATURE_EXCEPTIONS = {"ExportArchive.write_out", "utils.deserialize_keras_object", "utils.custom_object_scope"}


def test_signatures_match_keras(keras_ref):
    import inspect

    from cornu.export import ExportArchive

    pairs = []
    for ns in ("tree", "config", "backend"):
        for name in dir(getattr(keras_ref, ns)):
            k = getattr(getattr(keras_ref, ns), name)
            if not name.startswith("_") and callable(k) and not inspect.isclass(k):
                pairs.append((f"{ns}.{name}", k, getattr(getattr(keras, ns), name)))
    for name in ("plot_model", "model_to_dot", "pack_x_y_sample_weight", "unpack_x_y_sample_weight",
                 "get_source_inputs", "is_keras_tensor", "standardize_dtype", "register_keras_serializable",
                 "serialize_keras_object", "deserialize_keras_object", "custom_object_scope", "get_registered_name",
                 "get_registered_object", "get_custom_objects", "enable_interactive_logging", "Config"):
        pairs.append((f"utils.{name}", getattr(keras_ref.utils, name), getattr(keras.utils, name)))
    for name in ("StatelessScope", "SymbolicScope", "name_scope", "device", "RematScope", "remat", "Function"):
        pairs.append((name, getattr(keras_ref, name), getattr(keras, name)))
    pairs += [("Model.export", keras_ref.Model.export, keras.Model.export),
              ("layers.serialize", keras_ref.layers.serialize, keras.layers.serialize),
              ("layers.deserialize", keras_ref.layers.deserialize, keras.layers.deserialize)]
    for name in ("track", "add_endpoint", "add_variable_collection", "write_out", "track_and_add_endpoint"):
        pairs.append((f"ExportArchive.{name}", getattr(keras_ref.export.ExportArchive, name),
                      getattr(ExportArchive, name)))
    differ = [name for name, k, c in pairs if _signature(k) != _signature(c)]
    assert sorted(differ) == sorted(SIGNATURE_EXCEPTIONS)
