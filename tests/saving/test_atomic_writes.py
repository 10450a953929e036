"""Every writer (``.keras``, ``.weights.h5``, legacy ``.h5``, ``KerasFileEditor.save``) writes a temporary file
beside the target and moves it in place with ``os.replace``; a save that fails part-way leaves the previous file
as it was and no temporary file behind."""
import contextlib
import io
import os
import zipfile

import numpy as np
import pytest

import cornu as keras
from cornu.saving import KerasFileEditor, legacy_h5, weights_h5


def _model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"), keras.layers.Dense(2, name="b")])


class _Unserializable(keras.layers.Layer):
    def get_config(self):
        return {**super().get_config(), "thing": object()}


def _bad_model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"), _Unserializable(name="odd")])


def _editor(path):
    with contextlib.redirect_stdout(io.StringIO()):
        return KerasFileEditor(path)


def _editor_save(model, path):
    model.save_weights(str(path) + ".src.weights.h5")
    _editor(str(path) + ".src.weights.h5").save(path)
    os.remove(str(path) + ".src.weights.h5")


WRITERS = {
    "keras": (".keras", lambda m, p: m.save(p)),
    "weights": (".weights.h5", lambda m, p: m.save_weights(p)),
    "h5": (".h5", lambda m, p: m.save(p)),
    "editor": (".weights.h5", _editor_save),
}


@pytest.fixture(autouse=True)
def _quiet_legacy_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_written_through_a_temp_file_and_os_replace(tmp_path, monkeypatch, writer):
    suffix, write = WRITERS[writer]
    target = tmp_path / ("out" + suffix)
    calls = []
    real_replace = os.replace

    def recording_replace(src, dst):
        calls.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    write(_model(), target)
    final = [c for c in calls if c[1] == str(target)]
    assert len(final) == 1
    tmp = final[0][0]
    assert os.path.dirname(tmp) == str(tmp_path) and tmp != str(target) and not os.path.exists(tmp)
    assert target.exists() and sorted(os.listdir(tmp_path)) == [target.name]


def _fail_on_call(monkeypatch, owner, name, n):
    """Make ``owner.name`` raise on its ``n``-th call (the earlier calls run, so the file is partly written)."""
    real = getattr(owner, name)
    count = [0]

    def failing(*args, **kwargs):
        count[0] += 1
        if count[0] == n:
            raise RuntimeError("simulated failure mid-write")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


MID_WRITE = {
    "keras": lambda mp: _fail_on_call(mp, zipfile.ZipFile, "writestr", 3),
    "weights": lambda mp: _fail_on_call(mp, weights_h5, "_write_group", 2),
    "h5": lambda mp: _fail_on_call(mp, legacy_h5, "write_name_list", 3),
}


@pytest.mark.parametrize("writer", sorted(MID_WRITE))
def test_failure_mid_write_keeps_previous_file(tmp_path, monkeypatch, writer):
    suffix, write = WRITERS[writer]
    target = tmp_path / ("out" + suffix)
    write(_model(), target)
    before = target.read_bytes()
    MID_WRITE[writer](monkeypatch)
    with pytest.raises(RuntimeError, match="mid-write"):
        write(_model(), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == [target.name]


@pytest.mark.parametrize("writer", ["keras", "h5"])
def test_unserializable_model_keeps_previous_file(tmp_path, writer):
    suffix, write = WRITERS[writer]
    target = tmp_path / ("out" + suffix)
    write(_model(), target)
    before = target.read_bytes()
    with pytest.raises((TypeError, ValueError)):
        write(_bad_model(), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == [target.name]


def test_editor_save_failing_mid_write_keeps_previous_file(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "src.weights.h5")
    editor = _editor(tmp_path / "src.weights.h5")
    editor.save(tmp_path / "out.weights.h5")
    before = (tmp_path / "out.weights.h5").read_bytes()
    editor.weights_dict["layers"]["dense_1"]["0"] = np.array([object()], dtype=object)  # not storable in HDF5
    with pytest.raises(TypeError):
        editor.save(tmp_path / "out.weights.h5")
    assert (tmp_path / "out.weights.h5").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out.weights.h5", "src.weights.h5"]
