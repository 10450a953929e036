"""KerasFileEditor alike in cornu and Keras 3.15: same weights dict, summary, comparisons, errors; edited files load
across libraries."""
import contextlib
import io

import numpy as np
import pytest

import cornu
from tests.helpers import assert_close, keras_oracle_module, random_array

keras = keras_oracle_module()


def _model(k, units=(3, 2), bn=True):
    layers = [k.Input((4,)), k.layers.Dense(units[0], name="first")]
    if bn:
        layers.append(k.layers.BatchNormalization(name="norm"))
    layers += [k.layers.Dense(u, name=f"d{i}") for i, u in enumerate(units[1:])]
    return k.Sequential(layers, name="seq")


def _quiet(fn, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args)
    return result, out.getvalue()


def _flat(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}/{key}"))
        else:
            out[f"{prefix}/{key}"] = np.asarray(value)
    return out


@pytest.fixture
def keras_file(tmp_path):
    model = _model(keras)
    model.compile("adam", "mse")
    model.fit(random_array((8, 4)), random_array((8, 2), seed=1), verbose=0)
    model.save(tmp_path / "k.keras")
    return model, tmp_path / "k.keras"


def test_same_view_of_a_keras_file(keras_file):
    _, path = keras_file
    theirs, _ = _quiet(keras.saving.KerasFileEditor, str(path))
    ours, _ = _quiet(cornu.saving.KerasFileEditor, str(path))
    a, b = _flat(theirs.weights_dict), _flat(ours.weights_dict)
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        assert a[key].dtype == b[key].dtype
    assert ours.config == theirs.config and ours.metadata == theirs.metadata
    assert ours.object_metadata == theirs.object_metadata
    assert _quiet(ours.summary)[1] == _quiet(theirs.summary)[1]


@pytest.mark.parametrize("units,bn,compiled", [((3, 2), True, True), ((3, 2), True, False), ((3, 5), False, False),
                                               ((3,), True, False), ((5, 2, 2), False, False)])
def test_compare_alike(keras_file, units, bn, compiled):
    _, path = keras_file
    theirs, _ = _quiet(keras.saving.KerasFileEditor, str(path))
    ours, _ = _quiet(cornu.saving.KerasFileEditor, str(path))
    k_ref, c_ref = _model(keras, units, bn), _model(cornu, units, bn)
    if compiled:
        for ref, lib in ((k_ref, keras), (c_ref, cornu)):
            ref.compile("adam", "mse")
            ref.fit(random_array((8, 4)), random_array((8, 2), seed=1), verbose=0)
    expected, expected_out = _quiet(theirs.compare, k_ref)
    got, got_out = _quiet(ours.compare, c_ref)
    assert got == expected
    assert got_out.split() == expected_out.split()


def test_cornu_edits_keras_loads(keras_file, tmp_path):
    model, path = keras_file
    editor, _ = _quiet(cornu.saving.KerasFileEditor, str(path))
    kernel = random_array((3, 2), seed=4)
    editor.add_weights("dense_1", {"0": kernel})
    editor.delete_object("optimizer")
    editor.save(tmp_path / "edited.weights.h5")
    target = _model(keras)
    target.load_weights(tmp_path / "edited.weights.h5")
    np.testing.assert_array_equal(target.layers[-1].get_weights()[0], kernel)
    model.layers[-1].set_weights([kernel, model.layers[-1].get_weights()[1]])
    x = random_array((3, 4), seed=2)
    assert_close(target.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_edits_cornu_loads(tmp_path):
    source = _model(cornu, bn=False)
    source.save(tmp_path / "c.keras")
    editor, _ = _quiet(keras.saving.KerasFileEditor, str(tmp_path / "c.keras"))
    editor.rename_object("dense", "dense_9")
    editor.rename_object("dense_1", "dense")
    editor.rename_object("dense_9", "dense_1")
    editor.save(str(tmp_path / "swapped.weights.h5"))
    target = cornu.Sequential([cornu.Input((4,)), cornu.layers.Dense(3), cornu.layers.Dense(2)])
    with pytest.raises(ValueError):
        target.load_weights(tmp_path / "swapped.weights.h5")
    editor.rename_object("dense", "dense_9")
    editor.rename_object("dense_1", "dense")
    editor.rename_object("dense_9", "dense_1")
    editor.save(str(tmp_path / "back.weights.h5"))
    target.load_weights(tmp_path / "back.weights.h5")
    x = random_array((3, 4), seed=2)
    assert_close(target.predict(x, verbose=0), source.predict(x, verbose=0))


@pytest.mark.parametrize("edit", [
    lambda e: e.rename_object("nope", "x"), lambda e: e.rename_object("0", "x"),
    lambda e: e.delete_weight("layers/dense", "9"), lambda e: e.add_object("a/b/c", {"0": np.ones(2)}),
    lambda e: e.add_weights("dense", [np.ones(2)]), lambda e: e.save("x.keras")])
def test_errors_alike(keras_file, edit):
    # Paths, not bare names: Keras 3.15 calls a bare name that occurs once (e.g. "dense") ambiguous as soon as the
    # file has an object after it (its occurrence count is added onto itself); cornu finds it.
    _, path = keras_file
    theirs, _ = _quiet(keras.saving.KerasFileEditor, str(path))
    ours, _ = _quiet(cornu.saving.KerasFileEditor, str(path))
    with pytest.raises(Exception) as expected:
        edit(theirs)
    with pytest.raises(Exception) as got:
        edit(ours)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)
