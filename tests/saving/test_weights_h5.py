"""``.weights.h5`` files: Keras layout, round trips, mismatches, corruption and atomic writes."""
import os

import h5py
import numpy as np
import pytest

import cornu as keras
from cornu.saving import save_weights, weights_h5


def _paths(filepath):
    with h5py.File(filepath, "r") as h5:
        found = []
        h5.visit(found.append)
    return found


def test_roundtrip_restores_weights_and_predictions(tmp_path, make_mlp, vectors):
    x, _ = vectors
    source, target = make_mlp(), make_mlp()
    source.save_weights(tmp_path / "m.weights.h5")
    target.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))


def test_layout_uses_keras_paths_and_layout(tmp_path, make_mlp):
    model = make_mlp(names=("first", "second"))
    path = tmp_path / "m.weights.h5"
    save_weights(model, path)
    assert set(_paths(path)) == {"vars", "layers", "layers/dense", "layers/dense/vars", "layers/dense/vars/0",
                                 "layers/dense/vars/1", "layers/dense_1", "layers/dense_1/vars",
                                 "layers/dense_1/vars/0", "layers/dense_1/vars/1"}
    with h5py.File(path, "r") as h5:
        np.testing.assert_array_equal(h5["layers/dense/vars/0"][()], model.get_layer("first").kernel.numpy())
        assert h5["layers/dense/vars/0"].shape == (4, 3)


def test_non_trainable_variables_come_after_trainable(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    bn = model.layers[0]
    for i, variable in enumerate(bn.weights):
        variable.assign(np.full(3, float(i + 1), dtype="float32"))
    path = tmp_path / "bn.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as h5:
        stored = [h5[f"layers/batch_normalization/vars/{i}"][()] for i in range(4)]
    expected = [v.numpy() for v in bn.weights if v.trainable] + [v.numpy() for v in bn.weights if not v.trainable]
    for got, want in zip(stored, expected):
        np.testing.assert_array_equal(got, want)


def test_loads_a_file_written_in_keras_layout(tmp_path, make_mlp, vectors):
    x, _ = vectors
    rng = np.random.default_rng(5)
    arrays = {"layers/dense": [rng.random((4, 3)), rng.random(3)],
              "layers/dense_1": [rng.random((3, 2)), rng.random(2)]}
    path = tmp_path / "keras.weights.h5"
    with h5py.File(path, "w") as h5:
        h5.create_group("vars")
        for group, values in arrays.items():
            for i, value in enumerate(values):
                h5.create_dataset(f"{group}/vars/{i}", data=value.astype("float32"))
    model = make_mlp(names=("anything", "else"))
    model.load_weights(path)
    hidden = x @ arrays["layers/dense"][0] + arrays["layers/dense"][1]
    expected = hidden @ arrays["layers/dense_1"][0] + arrays["layers/dense_1"][1]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)


def test_subclassed_model_paths_follow_attributes(tmp_path, two_block_net, vectors):
    x, _ = vectors
    model = two_block_net()
    model(x)
    path = tmp_path / "sub.weights.h5"
    model.save_weights(path)
    groups = {p for p in _paths(path) if p.endswith("/vars")}
    assert groups == {"encoder/vars", "blocks/scaled_dense/vars", "blocks/dense/vars"}
    fresh = two_block_net()
    fresh(x)
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_shape_mismatch_names_layer_index_and_shapes(tmp_path, make_mlp):
    make_mlp().save_weights(tmp_path / "m.weights.h5")
    wider = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="wide"), keras.layers.Dense(2)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"'wide'.*variable 0 \('kernel'\).*\(4, 5\).*\(4, 3\)"):
        wider.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(before, wider.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_variable_count_mismatch(tmp_path, make_mlp):
    make_mlp(use_bias=False).save_weights(tmp_path / "nobias.weights.h5")
    with pytest.raises(ValueError, match=r"'first' expects 2 variables.*has 1"):
        make_mlp().load_weights(tmp_path / "nobias.weights.h5")


def test_skip_mismatch_warns_and_loads_the_rest(tmp_path, make_mlp):
    source = make_mlp()
    source.save_weights(tmp_path / "m.weights.h5")
    target = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(7)])
    with pytest.warns(UserWarning, match="Skipping"):
        target.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(target.layers[0].kernel.numpy(), source.layers[0].kernel.numpy())


def test_extra_layers_in_file_are_reported(tmp_path, make_mlp):
    make_mlp().save_weights(tmp_path / "m.weights.h5")
    smaller = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"layers/dense_1.*match no layer"):
        smaller.load_weights(tmp_path / "m.weights.h5")
    with pytest.warns(UserWarning, match="match no layer"):
        smaller.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)


def test_unbuilt_model_gets_a_build_hint(tmp_path, make_mlp):
    make_mlp().save_weights(tmp_path / "m.weights.h5")
    unbuilt = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="never built"):
        unbuilt.load_weights(tmp_path / "m.weights.h5")


def test_optimizer_state_is_saved_and_restored(tmp_path, make_mlp, vectors):
    x, y = vectors
    y = y @ np.ones((1, 2), dtype="float32")
    model = make_mlp()
    model.compile(keras.optimizers.Adam(2 ** -10), "mse")
    model.fit(x, y, batch_size=8, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    assert "optimizer/vars/0" in _paths(tmp_path / "m.weights.h5")
    clone = make_mlp()
    clone.compile(keras.optimizers.Adam(2 ** -10), "mse")
    clone.load_weights(tmp_path / "m.weights.h5")
    assert int(clone.optimizer.iterations) == int(model.optimizer.iterations) == 2
    for a, b in zip(model.optimizer.variables, clone.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))


@pytest.mark.parametrize("name", ["m.h5", "m.keras.h5", "m.weights", "m.npz"])
def test_save_requires_weights_h5_suffix(tmp_path, make_mlp, name):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        make_mlp().save_weights(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_corrupt_files_are_clear_errors(tmp_path, make_mlp):
    model = make_mlp()
    (tmp_path / "text.weights.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match=r"text\.weights\.h5.*not a valid HDF5"):
        model.load_weights(tmp_path / "text.weights.h5")
    model.save_weights(tmp_path / "full.weights.h5")
    data = (tmp_path / "full.weights.h5").read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.weights\.h5"):
        model.load_weights(tmp_path / "cut.weights.h5")
    with pytest.raises(FileNotFoundError, match="missing"):
        model.load_weights(tmp_path / "missing.weights.h5")


def test_failed_save_leaves_previous_file_and_no_temp(tmp_path, make_mlp, monkeypatch):
    path = tmp_path / "m.weights.h5"
    make_mlp().save_weights(path)
    before = path.read_bytes()
    calls = []
    real = weights_h5._write_group

    def failing(h5, group_path, store):
        calls.append(group_path)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(h5, group_path, store)

    monkeypatch.setattr(weights_h5, "_write_group", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        make_mlp().save_weights(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.weights.h5"]


def test_overwrite_false_refuses_existing_file(tmp_path, make_mlp):
    path = tmp_path / "m.weights.h5"
    make_mlp().save_weights(path)
    with pytest.raises(FileExistsError, match="m.weights.h5"):
        make_mlp().save_weights(path, overwrite=False)


def test_links_out_of_the_file_and_non_numeric_data_are_refused(tmp_path, make_mlp):
    model = make_mlp()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as h5:
        del h5["layers/dense"]
        h5["layers/dense"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/")
    with pytest.raises(ValueError, match="ExternalLink"):
        model.load_weights(path)
    model.save_weights(path)
    with h5py.File(path, "a") as h5:
        del h5["layers/dense/vars/1"]
        h5.create_dataset("layers/dense/vars/1", data=np.array([b"a", b"b", b"c"], dtype=object),
                          dtype=h5py.string_dtype())
    before = model.get_weights()
    with pytest.raises(ValueError, match="non-numeric"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
