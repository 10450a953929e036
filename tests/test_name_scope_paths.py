"""``keras.name_scope``: variables created inside get paths prefixed by the enclosing scopes, as in Keras."""
import cornu as keras


def _paths(ns):
    """Paths of the variables created in ``ns``: a Dense built in nested scopes, one built in a scope it was
    not created in, a bare Variable, a functional model built in a scope, and one outside any."""
    with ns.name_scope("outer"):
        with ns.name_scope("inner"):
            d1 = ns.layers.Dense(2, name="d1")
            d1.build((None, 3))
        bare = ns.Variable(1.0, name="v")
    d2 = ns.layers.Dense(2, name="d2")
    with ns.name_scope("outer"):
        d2.build((None, 3))
    with ns.name_scope("blk"):
        i = ns.Input((3,))
        o = ns.layers.Dense(2, name="d3")(i)
    model = ns.Model(i, o)
    plain = ns.layers.Dense(2, name="d4")
    plain.build((None, 3))
    return {"nested": [w.path for w in d1.weights], "bare": bare.path,
            "built_in_scope": [w.path for w in d2.weights], "model": [w.path for w in model.weights],
            "plain": [w.path for w in plain.weights]}


def test_paths_follow_the_scopes():
    paths = _paths(keras)
    assert paths["nested"] == ["outer/inner/d1/kernel", "outer/inner/d1/bias"]
    assert paths["bare"] == "outer/v"
    assert paths["built_in_scope"] == ["outer/d2/kernel", "outer/d2/bias"]
    assert paths["model"] == ["blk/d3/kernel", "blk/d3/bias"]
    assert paths["plain"] == ["d4/kernel", "d4/bias"]


def test_paths_equal_keras(keras_ref):
    assert _paths(keras) == _paths(keras_ref)


def test_nested_scopes_of_one_name_stack_as_keras(keras_ref):
    """Keras merges a scope into a same-named parent only for the same caller: two plain scopes stack."""
    import cornu

    paths = []
    for k in (keras_ref, cornu):
        with k.name_scope("outer"):
            with k.name_scope("outer"):
                paths.append(k.Variable(1.0, name="d").path)
    assert paths[0] == paths[1] == "outer/outer/d"
