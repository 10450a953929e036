"""Fuzzing the loaders with mutated ``.keras`` / ``.h5`` / ``.weights.h5`` files.

Every load either succeeds or raises a clean, explained error (ValueError / OSError / TypeError, of which
cornu's error classes are subclasses), within a time bound, without writing outside its directory and without
running code (the Lambda seeds would create a sentinel file). The CI run takes a seeded subset; the full run
is marked slow (``bench/fuzz_files.py`` runs it with a report).
"""
import collections
import io
import json
import os
import zipfile

import h5py
import pytest

import cornu as keras
from tests.saving import fuzz_cases

TIME_LIMIT_S = 10.0


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return fuzz_cases.make_seeds(keras, str(tmp_path_factory.mktemp("seeds")))


def _fuzz(seeds, tmp_path, monkeypatch, n, seed):
    root = tmp_path / "fuzz"
    work = root / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    before = set(os.listdir(tmp_path))
    counts, bad = collections.Counter(), []
    with fuzz_cases.Runner(str(work), TIME_LIMIT_S) as runner:
        for case in fuzz_cases.generate(seeds, n, seed):
            for outcome in runner.run(case):
                counts[outcome.error or "loaded"] += 1
                if fuzz_cases.hang_in_libhdf5(outcome):
                    counts["hang_in_libhdf5"] += 1  # known libhdf5 limitation, reported by bench/fuzz_files.py
                elif not outcome.clean:
                    bad.append(f"{outcome.case} [{outcome.loader}]: {outcome.error}: {outcome.message:.300}")
                assert outcome.seconds < TIME_LIMIT_S or fuzz_cases.hang_in_libhdf5(outcome), outcome
            assert not (root / fuzz_cases.SENTINEL).exists() and not os.path.exists(fuzz_cases.SENTINEL), case.name
    assert not bad, "\n".join(bad)
    assert os.listdir(work) == [] and os.listdir(root) == ["work"]
    assert set(os.listdir(tmp_path)) == before
    assert not any(os.path.exists(p) for p in ("/tmp/evil.txt", str(tmp_path / "evil.txt"), str(root / "evil.txt")))
    return counts


def test_fuzz_subset(seeds, tmp_path, monkeypatch):
    counts = _fuzz(seeds, tmp_path, monkeypatch, n=150, seed=0)
    assert sum(counts.values()) >= 150
    assert counts["loaded"] < sum(counts.values())  # the mutations do break files


@pytest.mark.slow
def test_fuzz_full(seeds, tmp_path, monkeypatch):
    counts = _fuzz(seeds, tmp_path, monkeypatch, n=1000, seed=1)
    assert sum(counts.values()) >= 1000


# ----------------------------------------------- regressions found by the fuzzer
def _write_keras(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_deeply_nested_config(seeds, tmp_path):
    members = fuzz_cases._members(seeds["keras"].data)
    members["config.json"] = ("[" * 100000 + "]" * 100000).encode()
    _write_keras(tmp_path / "deep.keras", members)
    with pytest.raises(ValueError, match="config.json"):
        keras.saving.load_model(tmp_path / "deep.keras")
    members["config.json"] = json.dumps(fuzz_cases._deep(200)).encode()
    _write_keras(tmp_path / "deep2.keras", members)
    with pytest.raises(ValueError, match="deep2.keras"):
        keras.saving.load_model(tmp_path / "deep2.keras")


def test_corrupt_compression_method(seeds, tmp_path):
    data = bytearray(seeds["keras"].data)
    p = data.find(b"PK\x01\x02")
    while p >= 0:
        data[p + 10:p + 12] = (99).to_bytes(2, "little")  # the central directory's compression method
        p = data.find(b"PK\x01\x02", p + 1)
    (tmp_path / "m.keras").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        keras.saving.load_model(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="corrupt"):
        keras.saving.KerasFileEditor(tmp_path / "m.keras")


def test_editor_refuses_over_declared_dataset(seeds, tmp_path):
    buf = io.BytesIO(seeds["weights"].data)
    with h5py.File(buf, "r+") as f:
        group = f["layers/dense/vars"]
        del group["0"]
        group.create_dataset("0", shape=(1 << 16, 1 << 16), dtype="float64", chunks=(1, 4096), fillvalue=1.0)
    (tmp_path / "w.weights.h5").write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="declares"):
        keras.saving.KerasFileEditor(tmp_path / "w.weights.h5")


def test_functional_entry_with_non_dict_config():
    config = {"name": "m", "layers": [{"class_name": "Dense", "config": "oops", "inbound_nodes": []}],
              "input_layers": [], "output_layers": []}
    with pytest.raises((ValueError, TypeError), match="name"):
        keras.Model.from_config(config)
    assert fuzz_cases.is_clean(ValueError("x")) and not fuzz_cases.is_clean(KeyError("x"))


def test_functional_call_without_tensor_inputs():
    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
    config = model.get_config()
    entry = next(e for e in config["layers"] if e["name"] == "d")
    del entry["inbound_nodes"][0]["args"][0]["class_name"]
    with pytest.raises(ValueError, match="'d'.*no tensor inputs"):
        keras.Model.from_config(config)
