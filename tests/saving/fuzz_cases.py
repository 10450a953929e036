"""Mutated model files for the loader fuzz test (``tests/saving/test_fuzz_files.py``, ``bench/fuzz_files.py``).

Seed files (a ``.keras`` archive, a legacy whole-model ``.h5``, a ``.weights.h5`` file and a legacy weights
``.h5``, plus ``.keras`` / ``.h5`` models holding a Lambda whose code would create a sentinel file) are mutated
at the byte level (truncation, bit flips, overwritten spans), the zip level (members renamed, dropped,
duplicated, path-traversal names, absurd declared sizes, a zip bomb), the config level (values of the wrong
type, unknown classes, functions named in foreign modules, deep nesting) and the HDF5 level (datasets of the
wrong shape or dtype, missing or extra entries, huge declared shapes, links, corrupt name attributes).
``run_case`` loads one file with every loader that accepts its kind and reports the exception it raised.
"""
from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import random
import signal
import struct
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import h5py
import numpy as np

SENTINEL = "CODE_WAS_RUN"
# NotImplementedError: a feature cornu does not implement, named in the message (as Keras raises it).
CLEAN = (ValueError, OSError, TypeError, NotImplementedError)


@dataclass
class Case:
    name: str
    suffix: str
    kind: str          # "keras", "h5_model", "weights", "h5_weights"
    data: bytes
    mutation: str = ""


def base_model(keras: Any) -> Any:
    inputs = keras.Input((4,), name="x")
    return keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(3, name="hidden")(inputs)),
                       name="net")


def _lambda_model(keras: Any, sentinel: str) -> Any:
    fn = eval(f"lambda x: (open({sentinel!r}, 'w').close(), x)[1]")  # code that would leave a file behind
    return keras.Sequential([keras.Input((4,)), keras.layers.Lambda(fn, name="lam"),
                             keras.layers.Dense(2, name="out")], name="lam_net")


def _fixed_weights(model: Any) -> None:
    model.set_weights([np.linspace(-1, 1, w.size, dtype="float32").reshape(w.shape) for w in model.get_weights()])


def make_seeds(keras: Any, workdir: str) -> dict[str, Case]:
    """The unmutated files, written by cornu into ``workdir``; the sentinel left by building the Lambda model
    is removed again."""
    from cornu.saving import legacy_h5

    sentinel = os.path.join(workdir, SENTINEL)
    model = base_model(keras)
    _fixed_weights(model)
    model.compile("adam", "mse")
    model.fit(np.ones((4, 4), "float32"), np.ones((4, 3), "float32"), verbose=0)
    lam = _lambda_model(keras, sentinel)
    _fixed_weights(lam)
    seeds = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, obj, suffix, kind in (("keras", model, ".keras", "keras"), ("keras_lambda", lam, ".keras", "keras"),
                                        ("h5", model, ".h5", "h5_model"), ("h5_lambda", lam, ".h5", "h5_model")):
            path = os.path.join(workdir, name + suffix)
            obj.save(path)
            seeds[name] = Case(name, suffix, kind, open(path, "rb").read())
    path = os.path.join(workdir, "w.weights.h5")
    model.save_weights(path)
    seeds["weights"] = Case("weights", ".weights.h5", "weights", open(path, "rb").read())
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        legacy_h5.save_weights_to_hdf5_group(f, model)
    seeds["h5_weights"] = Case("h5_weights", ".h5", "h5_weights", buf.getvalue())
    for name in os.listdir(workdir):
        os.remove(os.path.join(workdir, name))
    return seeds


# ------------------------------------------------------------------ bytes
def _truncate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    n = rng.randrange(len(data))
    return f"truncate@{n}", data[:n]


def _bitflip(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return "bitflip", bytes(out)


def _overwrite(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    start = rng.randrange(len(out))
    span = rng.randint(1, 256)
    fill = rng.choice([b"\x00", b"\xff", bytes([rng.randrange(256)])])
    out[start:start + span] = (fill * span)[: len(out[start:start + span])]
    return f"overwrite@{start}", bytes(out)


# -------------------------------------------------------------------- zip
def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w", compression=compression) as zf:
            for name, payload in members:
                zf.writestr(zipfile.ZipInfo(name), payload)
    return buf.getvalue()


def _zip_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    members = list(_members(data).items())
    what = rng.choice(["rename", "drop", "duplicate", "traversal", "declared_size", "bomb", "junk"])
    i = rng.randrange(len(members))
    if what == "rename":
        members[i] = (rng.choice(["cfg.json", "model.weights", "CONFIG.JSON", "config.json/", ""]) or "x",
                      members[i][1])
    elif what == "drop":
        members.pop(i)
    elif what == "duplicate":
        members.append((members[i][0], rng.choice([members[i][1], b"{}", b""])))
    elif what == "traversal":
        evil = rng.choice(["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt", "..\\evil.txt", "C:/evil.txt",
                           "assets/..", "nul\x00.txt"])
        members.append((evil, b"pwned"))
    elif what == "bomb":
        members[i] = (members[i][0], b"\x00" * (4 << 20))
        return f"zip:{what}", _zip(members, zipfile.ZIP_DEFLATED)
    elif what == "junk":
        members.append((f"assets/{rng.randrange(100)}.bin", os.urandom(rng.randint(0, 64))))
    out = _zip(members)
    if what == "declared_size":
        out = bytearray(out)
        positions = [p for p in range(len(out) - 4) if out[p:p + 4] == b"PK\x01\x02"]
        p = rng.choice(positions)
        out[p + 24:p + 28] = struct.pack("<I", rng.choice([0xFFFFFFF0, 0x7FFFFFFF, 0, 1]))
        out = bytes(out)
    return f"zip:{what}", out


# ------------------------------------------------------------------ config
_BAD_VALUES: list[Any] = [None, -1, 0, 10 ** 30, 1e308, "x", "", [], {}, True, [None], {"a": 1}, "\x00" * 8,
                          "y" * 5000, {"class_name": "NoSuchLayer", "config": {}},
                          {"class_name": "function", "config": "system", "module": "os", "registered_name": None},
                          {"class_name": "function", "config": "exec", "module": "builtins"},
                          {"module": "subprocess", "class_name": "Popen", "config": {"args": "touch x"}},
                          {"class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "object"}},
                          {"class_name": "__tensor__", "config": {"value": [[1], [2, 3]], "dtype": "float32"}},
                          {"class_name": "__bytes__", "config": {"value": 3}},
                          {"class_name": "__slice__", "config": None}]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, prefix + (i,)))
    return out


def _deep(depth: int) -> Any:
    node: Any = {"class_name": "Dense", "config": {"units": 1}}
    for _ in range(depth):
        node = {"class_name": "Sequential", "config": {"layers": [node]}}
    return node


def mutate_config(rng: random.Random, config: Any) -> tuple[str, Any]:
    """One random type/class/structure mutation of a JSON config (a deep copy is changed)."""
    config = json.loads(json.dumps(config))
    what = rng.choice(["value", "value", "value", "delete", "class", "class", "deep", "list"])
    if what == "deep":
        return "config:deep", _deep(rng.choice([50, 400, 3000]))
    if what == "list":
        return "config:not-a-dict", rng.choice([[], [config], "model", 3, None])
    paths = [p for p in _paths(config) if p]
    if what == "class":
        paths = [p for p in paths if p[-1] in ("class_name", "module", "registered_name")] or paths
    path = rng.choice(paths)
    parent = config
    for key in path[:-1]:
        parent = parent[key]
    if what == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif what == "class":
        parent[path[-1]] = rng.choice(["NoSuchLayer", "Lambda", "Sequential", "Functional", "Conv2D", "Model",
                                       "os.system", "__lambda__", "__keras_tensor__", "function", None, 7,
                                       "keras.src.saving", "builtins", "subprocess"])
    else:
        parent[path[-1]] = json.loads(json.dumps(rng.choice(_BAD_VALUES)))
    return f"config:{what}:{'/'.join(map(str, path))[:80]}", config


def _json_text(rng: random.Random, config: Any) -> tuple[str, bytes]:
    if rng.random() < 0.1:
        return "config:bad-json", rng.choice([b"{", b"\xff\xfe", b"[" * 100000, b"nul", b'{"class_name": '])
    name, config = mutate_config(rng, config)
    try:
        return name, json.dumps(config).encode()
    except RecursionError:
        return name, ("[" * 5000 + "]" * 5000).encode()


# -------------------------------------------------------------------- h5
def _datasets(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return names


def _groups(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Group) else None)
    return names


def mutate_h5(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """One structural mutation of an HDF5 file (datasets, groups, links or attributes)."""
    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        datasets, groups = _datasets(f), _groups(f)
        what = rng.choice(["shape", "dtype", "delete", "extra", "huge", "scalar", "link", "attr", "group_as_data"])
        if what in ("attr",) or not datasets:
            holders = ["/"] + groups
            holder = f[rng.choice(holders)]
            keys = list(holder.attrs) or ["layer_names"]
            key = rng.choice(keys)
            value = rng.choice([np.array([1, 2, 3]), np.array([b"nope", b"missing"]), b"{not json", np.float64(3),
                                _json_text(rng, {"class_name": "Dense", "config": {}})[1],
                                np.array([], dtype="float64"), b"\xff\xfe"])
            holder.attrs[key] = value
            return f"h5:attr:{holder.name}:{key}", buf.getvalue()
        name = rng.choice(datasets)
        parent, leaf = name.rsplit("/", 1) if "/" in name else ("", name)
        group = f[parent] if parent else f
        shape = f[name].shape
        if what == "shape":
            del group[leaf]
            new = tuple(s + rng.choice([1, 2]) for s in shape) or (2,)
            group.create_dataset(leaf, data=np.ones(new if rng.random() < 0.7 else new[::-1] + (1,), "float32"))
        elif what == "dtype":
            del group[leaf]
            dtype = rng.choice(["S4", "complex64", "bool", "int8", "float16", "compound", "object", "bfloat16tag"])
            if dtype == "compound":
                group.create_dataset(leaf, shape=shape, dtype=np.dtype([("a", "f4"), ("b", "i4")]))
            elif dtype == "object":
                group.create_dataset(leaf, data=np.array(["a"] * max(1, int(np.prod(shape))), dtype=object),
                                     dtype=h5py.string_dtype())
            elif dtype == "bfloat16tag":
                ds = group.create_dataset(leaf, data=np.ones(shape, "float64"))
                ds.attrs["dtype"] = "bfloat16"
            else:
                group.create_dataset(leaf, data=np.ones(shape, dtype))
        elif what == "delete":
            del group[leaf]
        elif what == "extra":
            group.create_dataset(f"{leaf}_extra{rng.randrange(9)}", data=np.ones(3, "float32"))
        elif what == "huge":
            del group[leaf]
            huge = (1 << 33,) if rng.random() < 0.5 else (1 << 16, 1 << 16)
            group.create_dataset(leaf, shape=huge, dtype="float64", chunks=(1,) * (len(huge) - 1) + (1 << 12,),
                                 fillvalue=1.0)
        elif what == "scalar":
            del group[leaf]
            group.create_dataset(leaf, data=np.float32(1))
        elif what == "link":
            del group[leaf]
            group[leaf] = rng.choice([h5py.SoftLink("/nowhere"), h5py.ExternalLink("/etc/passwd", "/"),
                                      h5py.SoftLink("/" + (parent or ""))])
        elif what == "group_as_data":
            del group[leaf]
            group.create_group(leaf)
    return f"h5:{what}:{name}", buf.getvalue()


# ------------------------------------------------------------------ cases
def _keras_member_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    members = _members(data)
    if rng.random() < 0.5:
        name, text = _json_text(rng, json.loads(members["config.json"]))
        members["config.json"] = text
    else:
        name, members["model.weights.h5"] = mutate_h5(rng, members["model.weights.h5"])
    return name, _zip(list(members.items()))


def _h5_config_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        key = rng.choice(["model_config", "model_config", "training_config"])
        name, text = _json_text(rng, json.loads(f.attrs[key]))
        f.attrs[key] = np.void(text) if rng.random() < 0.05 else text
    return f"{key}:{name}", buf.getvalue()


_BYTE_MUTATORS: list[Callable] = [_truncate, _bitflip, _overwrite]


def generate(seeds: dict[str, Case], n: int, seed: int = 0) -> Iterator[Case]:
    """``n`` mutated files, reproducible from ``seed``."""
    rng = random.Random(seed)
    names = sorted(seeds)
    for i in range(n):
        base = seeds[rng.choice(names)]
        roll = rng.random()
        for _ in range(20):
            try:
                if roll < 0.35:
                    label, data = rng.choice(_BYTE_MUTATORS)(rng, base.data)
                elif base.kind == "keras":
                    label, data = (_zip_mutation if roll < 0.55 else _keras_member_mutation)(rng, base.data)
                elif base.kind == "h5_model" and roll < 0.65:
                    label, data = _h5_config_mutation(rng, base.data)
                else:
                    label, data = mutate_h5(rng, base.data)
                break
            except (KeyError, ValueError, OSError, TypeError):
                continue  # the mutation does not apply to this file; draw another
        else:
            label, data = _truncate(rng, base.data)
        yield Case(f"{i:05d}_{base.name}_{label}", base.suffix, base.kind, data,
                   f"{base.name}:{label.split(':')[0].split('@')[0]}")


# ------------------------------------------------------------------ loading
class LoadTimeout(Exception):
    """A load ran past its time limit."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def fire(*_: Any) -> None:
        raise LoadTimeout(f"load took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_TARGETS: dict[int, Any] = {}


def loaders(keras: Any, kind: str) -> list[tuple[str, Callable[[str], Any]]]:
    """``(name, load(path))`` for each loader that accepts a file of ``kind``. Weights go into one shared model
    (a failed load leaves it as it was; building a model per file would dominate the run time)."""
    target = _TARGETS.setdefault(id(keras), base_model(keras))

    def weights(path: str) -> None:
        target.load_weights(path)

    def by_name(path: str) -> None:
        target.load_weights(path, by_name=True, skip_mismatch=True)

    def editor(path: str) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            keras.saving.KerasFileEditor(path)

    out = {"keras": [("load_model", keras.saving.load_model), ("load_weights", weights), ("editor", editor)],
           "h5_model": [("load_model", keras.saving.load_model), ("load_weights", weights)],
           "weights": [("load_weights", weights), ("editor", editor)],
           "h5_weights": [("load_weights", weights), ("by_name", by_name)]}
    return out[kind]


@dataclass
class Outcome:
    case: str
    loader: str
    error: str | None      # the exception's class name; "Hang" when the load never returned
    message: str
    clean: bool
    seconds: float


def is_clean(error: BaseException | None) -> bool:
    """A clean failure: ValueError / OSError / TypeError (cornu's error classes derive from them), or
    NotImplementedError for an unsupported feature, with a message."""
    if error is None:
        return True
    return isinstance(error, CLEAN) and not isinstance(error, LoadTimeout) and bool(str(error).strip())


def run_case(keras: Any, case: Case, directory: str, time_limit: float = 10.0) -> list[Outcome]:
    """Write ``case`` into ``directory`` and load it with each loader of its kind (warnings silenced)."""
    path = os.path.join(directory, "case" + case.suffix)
    with open(path, "wb") as f:
        f.write(case.data)
    outcomes = []
    for name, load in loaders(keras, case.kind):
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            with warnings.catch_warnings(), _time_limit(time_limit):
                warnings.simplefilter("ignore")
                load(path)
        except Exception as e:  # noqa: BLE001 - the fuzz test classifies every exception
            error = e
        outcomes.append(Outcome(case.name, name, type(error).__name__ if error is not None else None,
                                str(error) if error is not None else "", is_clean(error),
                                time.perf_counter() - start))
    os.remove(path)
    return outcomes


def _worker(conn: Any, directory: str, time_limit: float, dump_path: str) -> None:
    import cornu

    loaders(cornu, "weights")  # build the shared target model before any watchdog runs
    with open(dump_path, "w") as dump:
        while True:
            case = conn.recv()
            if case is None:
                return
            # A hang inside C code (libhdf5) never returns to Python, so SIGALRM cannot stop it: the watchdog
            # thread writes the Python stack and ends the process.
            faulthandler.dump_traceback_later(4 * time_limit, exit=True, file=dump)
            outcomes = run_case(cornu, case, directory, time_limit)
            faulthandler.cancel_dump_traceback_later()
            conn.send(outcomes)


def hang_in_libhdf5(outcome: Outcome) -> bool:
    """A hang whose innermost Python frame is an h5py call: libhdf5 itself looping on a corrupt file (seen with
    HDF5 2.0.0 reading a variable-length string attribute whose global heap was overwritten); no in-process
    code can interrupt it."""
    frames = [line for line in outcome.message.splitlines() if line.strip().startswith("File ")]
    return outcome.error == "Hang" and bool(frames) and "/h5py/" in frames[0]


class Runner:
    """Runs cases in a forked worker process, so that a load stuck in C code is reported as a ``"Hang"`` outcome
    (with the stack it hung in) instead of stopping the run."""

    def __init__(self, directory: str, time_limit: float = 10.0):
        self.directory, self.time_limit = directory, time_limit
        fd, self.dump_path = tempfile.mkstemp(prefix="cornu_fuzz_watchdog_", suffix=".txt")
        os.close(fd)
        self._process: Any = None

    def _start(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_worker, args=(child, self.directory, self.time_limit,
                                                              self.dump_path), daemon=True)
        self._process.start()

    def run(self, case: Case) -> list[Outcome]:
        if self._process is None or not self._process.is_alive():
            self._start()
        self._conn.send(case)
        try:
            if self._conn.poll(8 * self.time_limit + 60):
                return self._conn.recv()
        except EOFError:
            pass
        self._process.kill()
        self._process.join()
        self._process = None
        with open(self.dump_path) as f:
            stack = f.read()
        path = os.path.join(self.directory, "case" + case.suffix)
        if os.path.exists(path):
            os.remove(path)
        return [Outcome(case.name, "?", "Hang", stack[:2000], False, 4 * self.time_limit)]

    def close(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._conn.send(None)
            self._process.join(30)
        if os.path.exists(self.dump_path):
            os.remove(self.dump_path)

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
