"""Variable paths as Keras 3 gives them: a layer builds (and first runs) under ``name_scope(layer.name)``.

So weights created while a model or layer builds are prefixed by its name (``top/d/kernel``), while layers
built by symbolic calls before a functional model exists keep their own (``fd/kernel``).
"""
import pytest

import cornu as keras


def _sub_model(ns):
    class Sub(ns.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = ns.layers.Dense(2, name="sd")

        def call(self, x):
            return self.d(x)

    return Sub(name="sub")


def _custom_layer(ns, name):
    """A layer with a sub-layer built in ``build()``, one built lazily in ``call()`` and a weight of its own."""

    class Custom(ns.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.late = ns.layers.Dense(2, name="cb")

        def build(self, input_shape):
            self.early = ns.layers.Dense(2, name="ba")
            self.early.build(input_shape)
            self.w = self.add_weight(shape=(2,), name="w")

        def call(self, x):
            return self.late(self.early(x)) + self.w

    return Custom(name=name)


def _attention_model(ns):
    class Wrap(ns.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.mha = ns.layers.MultiHeadAttention(2, 2, name="mha")

        def call(self, x):
            return self.mha(x, x)

    return Wrap(name="wrap")


def _functional(ns, shape, layer, **input_kwargs):
    i = ns.Input(shape, **input_kwargs)
    return ns.Model(i, layer(i))


def _cases(ns):
    """``{case: [w.path for w in weights]}`` for models and layers built in the ways Keras names differently."""
    L = ns.layers
    ones = ns.ops.ones
    built = {}
    built["input_first"] = ns.Sequential([ns.Input((3,)), L.Dense(2, name="d")], name="top")
    lazy = ns.Sequential([L.Dense(2, name="d2")], name="lazy")
    lazy(ones((1, 3)))
    built["lazy_sequential"] = lazy
    sub = _sub_model(ns)
    sub(ones((1, 3)))
    built["subclassed"] = sub
    explicit = ns.Sequential([L.Dense(2, name="cd")], name="built")
    explicit.build((None, 3))
    built["built_sequential"] = explicit
    built["functional"] = _functional(ns, (3,), L.Dense(2, name="fd"))
    built["sequential_in_functional"] = _functional(ns, (3,), ns.Sequential([L.Dense(2, name="sd")], name="seqm"))
    custom = _custom_layer(ns, "cust")
    custom(ones((1, 3)))
    built["custom_layer"] = custom
    built["custom_in_functional"] = _functional(ns, (3,), _custom_layer(ns, "cust2"))
    built["lstm"] = _functional(ns, (4, 3), L.LSTM(2, name="lstm"))
    built["bidirectional"] = _functional(ns, (4, 3), L.Bidirectional(L.LSTM(2, name="lstm"), name="bidirectional"))
    built["rnn_cell"] = _functional(ns, (4, 3), L.RNN(L.SimpleRNNCell(2, name="cellx"), name="rnn"))
    built["stacked_cells"] = _functional(ns, (4, 3), L.RNN(L.StackedRNNCells(
        [L.GRUCell(2, name="g1"), L.GRUCell(2, name="g2")], name="stack"), name="rnn2"))
    built["mha"] = _functional(ns, (4, 3), lambda x: L.MultiHeadAttention(2, 2, name="mha")(x, x))
    built["batch_norm"] = _functional(ns, (3,), L.BatchNormalization(name="bn"))
    built["time_distributed"] = _functional(ns, (2, 3), L.TimeDistributed(L.Dense(2, name="tdd"), name="td"))
    nested_rnn = ns.Sequential([L.LSTM(2, name="l2"), L.BatchNormalization(name="bn2"),
                                L.RepeatVector(2, name="rep"),
                                L.Bidirectional(L.GRU(2, name="gru"), name="bi"),
                                L.RepeatVector(2, name="rep2"),
                                L.TimeDistributed(L.Dense(2, name="tdd2"), name="td2")], name="sq")
    nested_rnn(ones((1, 4, 3)))
    built["sequential_of_rnns"] = nested_rnn
    attention = _attention_model(ns)
    attention(ones((1, 4, 3)))
    built["mha_in_subclassed"] = attention
    outer = ns.Sequential([ns.Sequential([L.Dense(2, name="inner_d")], name="inner")], name="outer")
    outer(ones((1, 3)))
    built["nested_sequential"] = outer
    same = ns.Sequential([L.Dense(2, name="d")], name="d")
    same(ones((1, 3)))
    built["same_name"] = same
    with ns.name_scope("ns"):
        scoped = ns.Sequential([L.Dense(2, name="dn")], name="scoped")
        scoped(ones((1, 3)))
    built["in_name_scope"] = scoped
    plain = L.Dense(2, name="dd")
    plain(ones((1, 3)))
    built["plain_layer"] = plain
    return {case: [w.path for w in obj.weights] for case, obj in built.items()}


def test_paths_follow_the_building_layer():
    paths = _cases(keras)
    assert paths["input_first"] == ["top/d/kernel", "top/d/bias"]
    assert paths["lazy_sequential"] == ["lazy/d2/kernel", "lazy/d2/bias"]
    assert paths["subclassed"] == ["sub/sd/kernel", "sub/sd/bias"]
    assert paths["built_sequential"] == ["built/cd/kernel", "built/cd/bias"]
    assert paths["functional"] == ["fd/kernel", "fd/bias"]
    assert paths["sequential_in_functional"] == ["seqm/sd/kernel", "seqm/sd/bias"]
    assert paths["custom_layer"] == ["cust/w", "cust/cb/kernel", "cust/cb/bias", "cust/ba/kernel", "cust/ba/bias"]
    assert paths["lstm"] == ["lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias"]
    assert paths["same_name"] == ["d/d/kernel", "d/d/bias"]  # a different layer of the same name still nests
    assert paths["in_name_scope"] == ["ns/scoped/dn/kernel", "ns/scoped/dn/bias"]
    assert paths["plain_layer"] == ["dd/kernel", "dd/bias"]
    assert paths["nested_sequential"] == ["outer/inner/inner_d/kernel", "outer/inner/inner_d/bias"]
    assert all(p.startswith("sq/") and "/sq/" not in p for p in paths["sequential_of_rnns"])


def test_each_path_names_its_layers_once():
    for case, paths in _cases(keras).items():
        for p in paths:
            parts = p.split("/")
            assert all(a != b for a, b in zip(parts, parts[1:])) or case == "same_name", (case, p)


def test_paths_equal_keras(keras_ref):
    ours, theirs = _cases(keras), _cases(keras_ref)
    assert ours.keys() == theirs.keys()
    for case in ours:
        assert ours[case] == theirs[case], case


def test_optimizer_slots_keep_layer_tree_names():
    """Paths changed, not the variables the optimizer makes for them nor their count."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="top")
    opt = keras.optimizers.Adam()
    opt.build(model.trainable_variables)
    assert [v.path for v in model.trainable_variables] == ["top/d/kernel", "top/d/bias"]
    assert len(opt.variables) == 2 + 2 * len(model.trainable_variables)


@pytest.mark.parametrize("build", ["call", "build"])
def test_weights_file_roundtrip_with_scoped_paths(tmp_path, build):
    """Saved weights follow the layer tree: a lazily built model reloads into one built another way."""
    src = keras.Sequential([keras.layers.Dense(2, name="d")], name="a")
    src(keras.ops.ones((1, 3)))
    dst = keras.Sequential([keras.layers.Dense(2, name="d")], name="b")
    if build == "call":
        dst(keras.ops.ones((1, 3)))
    else:
        dst.build((None, 3))
    path = str(tmp_path / "w.weights.h5")
    src.save_weights(path)
    dst.load_weights(path)
    for a, b in zip(src.get_weights(), dst.get_weights()):
        assert (a == b).all()
