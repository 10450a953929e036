"""KerasFileEditor: reading ``.keras`` / ``.weights.h5`` weights, edits, comparison and saving."""
import h5py
import numpy as np
import pytest

import cornu as keras
from cornu.saving import KerasFileEditor
from tests.helpers import assert_close, random_array


def _model(units=(3, 2), bn=False, name="seq"):
    layers = [keras.Input((4,)), keras.layers.Dense(units[0], name="first")]
    if bn:
        layers.append(keras.layers.BatchNormalization(name="norm"))
    layers += [keras.layers.Dropout(0.1, name="drop")] + [keras.layers.Dense(u, name=f"d{i}")
                                                          for i, u in enumerate(units[1:])]
    return keras.Sequential(layers, name=name)


@pytest.fixture
def saved(tmp_path):
    model = _model(bn=True)
    model.compile("adam", "mse")
    model.fit(random_array((8, 4)), random_array((8, 2), seed=1), verbose=0)
    model.save(tmp_path / "m.keras")
    return model, tmp_path / "m.keras"


def test_reads_weights_config_and_metadata(saved, capsys):
    model, path = saved
    editor = KerasFileEditor(path)
    assert f"Keras model file '{path}'" in capsys.readouterr().out
    assert editor.config["class_name"] == "Sequential" and "keras_version" in editor.metadata
    assert list(editor.weights_dict) == ["layers", "optimizer"]
    assert list(editor.weights_dict["layers"]) == ["batch_normalization", "dense", "dense_1"]  # file (sorted) order
    np.testing.assert_array_equal(editor.weights_dict["layers"]["dense"]["0"], model.layers[0].get_weights()[0])
    editor.summary()
    out = capsys.readouterr().out
    assert out.startswith("Weights structure\n  > layers\n")
    assert "│   │   ├─ 0: shape=(3,), dtype=float32" in out and "  └─ optimizer" in out


def test_compare_counts(saved, capsys):
    model, path = saved
    editor = KerasFileEditor(path)
    n_layers, n_opt = 8, len(model.optimizer.variables)
    # Keras's tally: each object's running count is added onto its parent's (dense 2, bn 2+6, dense_1 8+10,
    # then the optimizer 18 + (18 + n_opt)).
    assert editor.compare(model) == {"status": "success", "error_count": 0, "match_count": 36 + n_opt}
    assert n_layers == sum(len(v) for v in editor.weights_dict["layers"].values())
    other = _model(units=(3, 5))
    result = editor.compare(other)
    out = capsys.readouterr().out
    assert "...Weight shape mismatch for /layers/dense_1/0" in out
    assert "...Object /layers/batch_normalization present in saved file, missing from reference model" in out
    assert "...Object /optimizer present in saved file, missing from reference model" in out
    assert result == {"status": "error", "error_count": 7, "match_count": 4}


def test_edits(saved):
    _, path = saved
    editor = KerasFileEditor(path)
    editor.rename_object("dense_1", "head")
    assert list(editor.weights_dict["layers"]) == ["batch_normalization", "dense", "head"]
    editor.rename_object("layers/head", "dense_1")
    with pytest.raises(ValueError, match="occurs more than once"):
        editor.rename_object("0", "x")
    with pytest.raises(ValueError, match="Source name 'nope' does not appear"):
        editor.delete_object("nope")
    editor.delete_object("optimizer")
    assert list(editor.weights_dict) == ["layers"]
    editor.delete_weight("dense", "1")
    assert list(editor.weights_dict["layers"]["dense"]) == ["0"]
    with pytest.raises(ValueError, match=r"Weight 7 not found in object dense. Weights found: \['0'\]"):
        editor.delete_weight("dense", "7")
    editor.add_weights("dense", {"1": np.full(3, 2.0, "float32")})
    np.testing.assert_array_equal(editor.weights_dict["layers"]["dense"]["1"], np.full(3, 2.0))
    with pytest.raises(ValueError, match="should be a dict"):
        editor.add_weights("dense", [np.zeros(3)])
    editor.add_object("layers/extra", {"0": np.ones((2, 2), "float32")})
    assert "extra" in editor.weights_dict["layers"]
    with pytest.raises(ValueError, match="Path 'a/b' not found"):
        editor.add_object("a/b/c", {"0": np.ones(2)})
    with pytest.raises(ValueError, match="numeric"):
        editor.add_object("layers/bad", {"0": np.array(["x"])})


def test_save_edited_weights_load_into_model(saved, tmp_path):
    model, path = saved
    editor = KerasFileEditor(path)
    new_kernel = random_array((4, 3), seed=5)
    editor.add_weights("layers/dense", {"0": new_kernel})
    editor.delete_object("optimizer")
    editor.save(tmp_path / "edited.weights.h5")
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        editor.save(tmp_path / "x.keras")
    target = _model(bn=True)
    target.load_weights(tmp_path / "edited.weights.h5")
    np.testing.assert_array_equal(target.layers[0].get_weights()[0], new_kernel)
    x = random_array((3, 4), seed=2)
    model.layers[0].set_weights([new_kernel, model.layers[0].get_weights()[1]])
    assert_close(target.predict(x, verbose=0), model.predict(x, verbose=0))
    editor.resave_weights(tmp_path / "again.weights.h5")
    again = KerasFileEditor(tmp_path / "again.weights.h5")
    assert again.config is None and again.metadata is None
    assert again.compare(target)["status"] == "success"


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match="Invalid filename"):
        KerasFileEditor(tmp_path / "m.txt")
    with pytest.raises(FileNotFoundError):
        KerasFileEditor(tmp_path / "missing.keras")
    (tmp_path / "junk.weights.h5").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a valid HDF5"):
        KerasFileEditor(tmp_path / "junk.weights.h5")
    with h5py.File(tmp_path / "link.weights.h5", "w") as f:
        f.create_group("layers/dense/vars").create_dataset("0", data=np.ones(2))
        f["layers/other"] = h5py.ExternalLink("/etc/passwd", "/")
    with pytest.raises(ValueError, match="ExternalLink"):
        KerasFileEditor(tmp_path / "link.weights.h5")
