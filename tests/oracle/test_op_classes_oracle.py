"""``keras.ops`` calls in functional configs, against Keras 3.15.1: the op-class table, and whole configs."""
from __future__ import annotations

import importlib
import inspect
import json
import re

import numpy as np
import pytest

import cornu as keras
from cornu.saving.keras_op_classes import KERAS_OP_CLASSES
from tests.helpers import random_array


def keras_op_classes(k) -> dict:
    """The table read off the installed Keras: the op class each public function builds, its constructor and
    ``call`` parameters (``*name`` collects the rest; ``name=``: the function passes it by keyword)."""
    from keras.src.ops.operation import Operation

    rows = {}
    for name in sorted(dir(keras.ops)):
        function = getattr(k.ops, name, None)
        if name.startswith("_") or function is None or inspect.isclass(function) or not callable(function):
            continue
        module = importlib.import_module(function.__module__)
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            source = ""
        # ``Op(...).symbolic_call(args)`` or ``Op(...)(args)``: the op class and where its call arguments start
        calls = [(getattr(module, m.group(1), None), m.end())
                 for m in re.finditer(r"(\w+)\((?:[^()]|\([^()]*\))*\)(?:\.symbolic_call)?\(", source)]
        calls = [(c, start) for c, start in calls if inspect.isclass(c) and issubclass(c, Operation)]
        built = [c for c, _ in calls]
        camel = getattr(module, "".join(p[:1].upper() + p[1:] for p in name.split("_")), None)
        if not built and inspect.isclass(camel) and issubclass(camel, Operation):
            built = [camel]
        if not built:
            continue
        cls = built[0]
        by_keyword = set()
        for start in (start for c, start in calls if c is cls):
            depth, end = 1, start
            while depth and end < len(source):
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                end += 1
            by_keyword |= set(re.findall(r"(\w+)\s*=(?!=)", source[start:end]))
        init = tuple(p.name for p in inspect.signature(cls.__init__).parameters.values()
                     if p.name not in ("self", "name") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        call = tuple(("*" if p.kind is p.VAR_POSITIONAL else "") + p.name + ("=" if p.name in by_keyword else "")
                     for p in inspect.signature(cls.call).parameters.values()
                     if p.name != "self" and p.kind is not p.VAR_KEYWORD)
        rows[name] = (cls.__module__.rpartition(".")[2], cls.__name__, init, call)
    return rows


def test_table_is_keras(keras_ref):
    assert keras_op_classes(keras_ref) == KERAS_OP_CLASSES


GRAPHS = {
    "any": lambda k, x: k.ops.any(k.ops.greater(x, 0.0), axis=-1),
    "sum_keepdims": lambda k, x: k.ops.sum(x, axis=1, keepdims=True),
    "mean": lambda k, x: k.ops.mean(x, axis=-1),
    "concatenate": lambda k, x: k.ops.concatenate([x, x * 2.0], axis=-1),
    "where": lambda k, x: k.ops.where(k.ops.greater(x, 0.0), x, k.ops.zeros_like(x)),
    "clip": lambda k, x: k.ops.clip(x, -0.5, 0.5),
    "einsum": lambda k, x: k.ops.einsum("bij,bij->bi", x, x),
    "swish": lambda k, x: k.ops.swish(x),
    "softmax": lambda k, x: k.ops.softmax(x, axis=1),
    "reshape": lambda k, x: k.ops.reshape(x, (-1, 24)),
    "transpose": lambda k, x: k.ops.transpose(x, (0, 2, 1)),
    "expand_squeeze": lambda k, x: k.ops.squeeze(k.ops.expand_dims(x, 1), axis=1),
    "getitem": lambda k, x: x[:, 1:3, 0],
    "cast": lambda k, x: k.ops.cast(x, "float16"),
    "matmul": lambda k, x: k.ops.matmul(x, k.ops.transpose(x, (0, 2, 1))),
    "argmax": lambda k, x: k.ops.argmax(x, axis=-1),
    "take": lambda k, x: k.ops.take(x, [0, 2], axis=1),
    "normalize": lambda k, x: k.ops.normalize(x, axis=-1, order=2),
    "layer_norm": lambda k, x: k.ops.layer_normalization(x, axis=-1),
    "stack": lambda k, x: k.ops.stack([x, x], axis=1),
    "pad": lambda k, x: k.ops.pad(x, [[0, 0], [1, 1], [0, 0]]),
    "cumsum": lambda k, x: k.ops.cumsum(x, axis=1),
    "max_min": lambda k, x: k.ops.maximum(k.ops.minimum(x, 0.3), -0.3),
    "relu_dense": lambda k, x: k.ops.relu(k.layers.Dense(3, name="dense")(x)),
}


def model_of(k, graph: str):
    k.backend.clear_session()
    x = k.Input((4, 6), name="x")
    return k.Model(x, GRAPHS[graph](k, x), name="m")


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_configs_equal_keras(keras_ref, graph):
    ours = json.loads(json.dumps(model_of(keras, graph).get_config()))
    theirs = json.loads(json.dumps(model_of(keras_ref, graph).get_config()))
    assert ours == theirs


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_models_move_both_ways(keras_ref, graph, tmp_path):
    x = random_array((3, 4, 6), seed=4)
    ours = model_of(keras, graph)
    ours.save(tmp_path / "cornu.keras")
    theirs = keras_ref.saving.load_model(tmp_path / "cornu.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0),
                               rtol=1e-3 if graph == "cast" else 1e-5, atol=1e-6)
    original = model_of(keras_ref, graph)
    original.save(tmp_path / "keras.keras")
    loaded = keras.saving.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.asarray(original.predict(x, verbose=0)),
                               rtol=1e-3 if graph == "cast" else 1e-5, atol=1e-6)
