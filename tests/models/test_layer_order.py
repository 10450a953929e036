"""A functional model lists its layers as Keras does: deepest first (longest chain to an output), ties in the
order a depth-first walk from the outputs first reaches them. ``weights``, ``get_weights`` and legacy ``.h5``
loading by position follow that order."""
import pytest

import cornu as keras


def _dense(ns, name, units=2):
    return ns.layers.Dense(units, name=name)


def _inception(ns):
    """Branches of 1, 2 and 3 convolutions and a pooled one, concatenated."""
    L = ns.layers
    i = ns.Input((4, 4, 3), name="in1")
    b1 = L.Conv2D(2, 1, name="b1")(i)
    b2 = L.Conv2D(2, 3, padding="same", name="b2b")(L.Conv2D(2, 1, name="b2a")(i))
    b3 = L.Conv2D(2, 1, name="b3a")(i)
    b3 = L.Conv2D(2, 3, padding="same", name="b3c")(L.Conv2D(2, 3, padding="same", name="b3b")(b3))
    b4 = L.Conv2D(2, 1, name="b4")(L.AveragePooling2D(3, 1, padding="same", name="b4p")(i))
    return ns.Model(i, L.Concatenate(name="cat")([b1, b2, b3, b4]))


def _unequal(ns):
    i = ns.Input((3,), name="in2")
    a = _dense(ns, "a3")(_dense(ns, "a2")(_dense(ns, "a1")(i)))
    return ns.Model(i, ns.layers.Add(name="add")([_dense(ns, "b1")(i), a]))


def _shared(ns):
    i = ns.Input((3,), name="in3")
    shared = _dense(ns, "shared")
    x = shared(i)
    z = shared(_dense(ns, "back", 3)(_dense(ns, "mid")(x)))
    return ns.Model(i, ns.layers.Add(name="add2")([z, x]))


def _multi_output(ns):
    i = ns.Input((3,), name="in4")
    x = _dense(ns, "h1")(i)
    return ns.Model(i, [_dense(ns, "o1")(x), _dense(ns, "o2")(_dense(ns, "h3")(_dense(ns, "h2")(x)))])


def _multi_input(ns):
    i1, i2 = ns.Input((3,), name="ia"), ns.Input((2,), name="ib")
    x = ns.layers.Concatenate(name="c5")([_dense(ns, "xa")(_dense(ns, "xa0")(i1)), i2])
    return ns.Model([i1, i2], _dense(ns, "out5")(x))


def _late_input(ns):
    i1, i2 = ns.Input((3,), name="ia2"), ns.Input((2,), name="ib2")
    return ns.Model([i1, i2], ns.layers.Concatenate(name="c6")([i2, _dense(ns, "ya")(_dense(ns, "ya0")(i1))]))


def _residual(ns):
    L = ns.layers
    i = ns.Input((3,), name="in7")
    s1 = _dense(ns, "r0")(i)
    s2 = L.Add(name="ad1")([_dense(ns, "r2")(_dense(ns, "r1")(s1)), s1])
    x = L.Add(name="ad2")([s2, _dense(ns, "r3")(s2)])
    return ns.Model(i, _dense(ns, "r4")(x))


def _ops_and_nested(ns):
    """Graph ops between layers, and a nested model called twice."""
    inner_in = ns.Input((2,), name="ii")
    inner = ns.Model(inner_in, _dense(ns, "idense")(inner_in), name="inner")
    i = ns.Input((3,), name="q3")
    a = _dense(ns, "e1")(i)
    b = inner(a)
    c = inner(_dense(ns, "e2")(ns.ops.relu(b)))
    z = ns.ops.add(_dense(ns, "u2")(_dense(ns, "u3")(a)), a)
    return ns.Model(i, [ns.layers.Concatenate(name="cc")([c, a, b]), z])


GRAPHS = {"inception": _inception, "unequal": _unequal, "shared": _shared, "multi_output": _multi_output,
          "multi_input": _multi_input, "late_input": _late_input, "residual": _residual,
          "ops_and_nested": _ops_and_nested}

EXPECTED = {
    "inception": ["in1", "b3a", "b2a", "b3b", "b4p", "b1", "b2b", "b3c", "b4", "cat"],
    "unequal": ["in2", "a1", "a2", "b1", "a3", "add"],
    "shared": ["in3", "shared", "mid", "back", "add2"],
    "multi_output": ["in4", "h1", "h2", "h3", "o1", "o2"],
    "multi_input": ["ia", "xa0", "xa", "ib", "c5", "out5"],
    "late_input": ["ia2", "ya0", "ib2", "ya", "c6"],
    "residual": ["in7", "r0", "r1", "r2", "ad1", "r3", "ad2", "r4"],
}


@pytest.mark.parametrize("graph", sorted(EXPECTED))
def test_layers_deepest_first_then_first_visited(graph):
    """Worked out by hand: e.g. ``inception`` has depths in1 4, b3a 3, {b2a b3b b4p} 2, {b1 b2b b3c b4} 1."""
    assert [l.name for l in GRAPHS[graph](keras).layers] == EXPECTED[graph]


def test_weights_follow_layer_order():
    model = _unequal(keras)
    assert [w.path for w in model.weights] == [f"{n}/{k}" for n in ("a1", "a2", "b1", "a3") for k in ("kernel", "bias")]
    assert [tuple(w.shape) for w in model.get_weights()] == [tuple(w.shape) for w in model.weights]


def test_layer_order_does_not_change_the_computation():
    """Layers run in graph order whatever order they are listed in."""
    import numpy as np

    model = _unequal(keras)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    w = {v.path: v.numpy() for v in model.weights}
    a = x @ w["a1/kernel"] + w["a1/bias"]
    a = a @ w["a2/kernel"] + w["a2/bias"]
    a = a @ w["a3/kernel"] + w["a3/bias"]
    expected = (x @ w["b1/kernel"] + w["b1/bias"]) + a
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-5)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_layer_and_weight_order_equal_keras(keras_ref, graph):
    ours, theirs = GRAPHS[graph](keras), GRAPHS[graph](keras_ref)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]


def test_inception_v3_order_equals_keras(keras_ref):
    kwargs = dict(weights=None, input_shape=(75, 75, 3), include_top=False)
    keras.backend.clear_session()  # InceptionV3's layers take auto-generated names: start both counters at zero
    keras_ref.backend.clear_session()
    ours = keras.applications.InceptionV3(**kwargs)
    theirs = keras_ref.applications.InceptionV3(**kwargs)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
