"""Differential checks found by the optimizers/callbacks/utils/activations/initializers sweep against Keras 3.

Each test builds the same object in real Keras (torch backend) and cornu and compares what a user sees:
names, configs, value types and dtypes, numbers, files written and exception classes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import cornu
from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl"]


def _strip_counter(name: str) -> str:
    base, _, tail = name.rpartition("_")
    return base if tail.isdigit() else name


# ---------------------------------------------------------------- optimizers

@pytest.mark.parametrize("cls_name", OPTIMIZERS)
def test_default_optimizer_name_matches_keras(cls_name):
    k, c = getattr(keras_ref.optimizers, cls_name)(), getattr(cornu.optimizers, cls_name)()
    assert _strip_counter(c.name) == _strip_counter(k.name)
    kc, cc = k.get_config(), c.get_config()
    kc.pop("name"), cc.pop("name")
    assert cc == kc


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "Nadam"])
def test_learning_rate_and_iterations_types_match_keras(cls_name):
    k = getattr(keras_ref.optimizers, cls_name)(learning_rate=0.1, name="opt")
    c = getattr(cornu.optimizers, cls_name)(learning_rate=0.1, name="opt")
    for attr in ("learning_rate", "iterations"):
        kv, cv = getattr(k, attr), getattr(c, attr)
        assert (cv.path, cv.name, cv.dtype, tuple(cv.shape)) == (kv.path, kv.name, kv.dtype, tuple(kv.shape))
        assert float(cv) == float(kv) and cv.numpy().dtype == np.asarray(kv).dtype
    k.learning_rate, c.learning_rate = 0.3, 0.3
    assert float(c.learning_rate) == float(k.learning_rate)
    assert [(v.path, v.dtype) for v in c.variables] == [(v.path, v.dtype) for v in k.variables]


def test_scheduled_learning_rate_reads_as_a_float32_tensor_like_keras():
    def make(lib):
        return lib.optimizers.SGD(learning_rate=lib.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5))

    k, c = make(keras_ref), make(cornu)
    kv, cv = k.learning_rate, c.learning_rate
    assert type(cv) is type(kv) and cv.dtype == kv.dtype
    np.testing.assert_allclose(cv.numpy(), kv.numpy(), rtol=1e-6)


def test_loss_scale_optimizer_state_dtypes_match_keras():
    k = keras_ref.optimizers.LossScaleOptimizer(keras_ref.optimizers.SGD(name="sgd"), name="lso")
    c = cornu.optimizers.LossScaleOptimizer(cornu.optimizers.SGD(name="sgd"), name="lso")
    k.build([keras_ref.Variable(np.ones(2, "float32"), name="w")])
    c.build([cornu.Variable(np.ones(2, "float32"), name="w")])
    assert [(v.path, v.dtype) for v in c.variables][:6] == [(v.path, v.dtype) for v in k.variables][:6]


# ---------------------------------------------------------------- callbacks

def _tiny_model(lib, lr=0.05):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1, name="d")], name="seq")
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=lr), loss="mse")
    model.set_weights([np.array([[0.1], [0.2], [-0.3]], "float32"), np.zeros((1,), "float32")])
    return model


def _drive(lib, make_callback, values):
    """Feed ``val_loss`` values to the callback epoch by epoch; record stops, rates and logs."""
    model = _tiny_model(lib, lr=0.1)
    cb = make_callback(lib)
    cb.set_model(model)
    cb.on_train_begin({})
    seen = []
    for epoch, value in enumerate(values):
        cb.on_epoch_begin(epoch, {})
        model.set_weights([np.full((3, 1), float(epoch), "float32"), np.full((1,), float(epoch), "float32")])
        logs = {"val_loss": value, "loss": value}
        cb.on_epoch_end(epoch, logs)
        seen.append((epoch, bool(model.stop_training), float(model.optimizer.learning_rate),
                     logs.get("learning_rate")))
        if model.stop_training:
            break
    cb.on_train_end({})
    state = {a: getattr(cb, a) for a in ("wait", "stopped_epoch", "best", "cooldown_counter") if hasattr(cb, a)}
    return seen, state, [w.tolist() for w in model.get_weights()]


SEQUENCES = [[1.0, 0.9, 0.95, 0.94, 0.96, 0.97, 0.93, 0.99, 1.0, 1.1],
             [1.0, 0.999, 0.998, 0.997, 0.5, 0.4, 0.41, 0.42, 0.43, 0.44]]
EARLY_STOPPING = [dict(patience=2, min_delta=0.01), dict(patience=1, baseline=0.95), dict(patience=2, baseline=0.3),
                  dict(patience=2, restore_best_weights=True), dict(patience=2, start_from_epoch=2,
                                                                   restore_best_weights=True),
                  dict(patience=0, mode="max"), dict(patience=3, baseline=2.0, restore_best_weights=True)]
REDUCE_LR = [dict(patience=1, factor=0.5, cooldown=2), dict(patience=1, factor=0.1, min_lr=0.005),
             dict(patience=2, factor=0.5, min_delta=0.01, cooldown=1), dict(patience=1, mode="max", factor=0.5)]


@pytest.mark.parametrize("values", SEQUENCES, ids=["bumpy", "plateau"])
@pytest.mark.parametrize("cls_name,kwargs", [("EarlyStopping", k) for k in EARLY_STOPPING]
                         + [("ReduceLROnPlateau", k) for k in REDUCE_LR])
def test_plateau_callbacks_follow_keras_epoch_by_epoch(cls_name, kwargs, values):
    def make(lib):
        return getattr(lib.callbacks, cls_name)(**kwargs)

    assert _drive(cornu, make, values) == _drive(keras_ref, make, values)


def _fit(lib, callbacks, epochs=3, **kwargs):
    import contextlib
    import io

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = _tiny_model(lib)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        history = model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks,
                            validation_data=(x[:16], y[:16]), **kwargs)
    return model, history, out.getvalue()


def test_learning_rate_scheduler_sees_and_logs_what_keras_does():
    def run(lib):
        seen = []

        def schedule(epoch, lr):
            seen.append(lr)
            return lr * 0.5

        model, history, _ = _fit(lib, [lib.callbacks.LearningRateScheduler(schedule)], epochs=3)
        return seen, history.history["learning_rate"], float(model.optimizer.learning_rate)

    assert run(cornu) == run(keras_ref)


@pytest.mark.parametrize("kwargs", [dict(), dict(save_best_only=True, initial_value_threshold=3.0),
                                    dict(save_weights_only=True, save_best_only=True)])
def test_model_checkpoint_verbose_output_and_files_match_keras(tmp_path, kwargs):
    def run(lib):
        folder = tmp_path / lib.__name__
        name = "w-{epoch:02d}-{val_loss:.2f}.weights.h5" if kwargs.get("save_weights_only") else "m-{epoch:02d}.keras"
        cb = lib.callbacks.ModelCheckpoint(str(folder / name), verbose=1, **kwargs)
        _, _, out = _fit(lib, [cb])
        return sorted(p.name for p in folder.iterdir()), out.replace(str(folder), "DIR")

    assert run(cornu) == run(keras_ref)


@pytest.mark.parametrize("cls_name", ["ModelCheckpoint", "ReduceLROnPlateau", "EarlyStopping"])
def test_unknown_monitor_in_auto_mode_raises_like_keras(tmp_path, cls_name):
    def run(lib):
        args = (str(tmp_path / f"{lib.__name__}.keras"),) if cls_name == "ModelCheckpoint" else ()
        cb = getattr(lib.callbacks, cls_name)(*args, monitor="nope")
        with pytest.raises(ValueError) as info:
            _fit(lib, [cb], epochs=1)
        return str(info.value)

    assert run(cornu) == run(keras_ref)


def test_terminate_on_nan_raise_error_matches_keras():
    def run(lib):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(8, 3)).astype("float32")
        y = np.ones((8, 1), "float32")
        y[5] = np.nan
        model = _tiny_model(lib)
        with pytest.raises(RuntimeError) as info:
            model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0,
                      callbacks=[lib.callbacks.TerminateOnNaN(raise_error=True)])
        return str(info.value)

    assert run(cornu) == run(keras_ref)


# ---------------------------------------------------------------- utils

def _call(lib, fn, args, kwargs):
    try:
        out = getattr(lib.utils, fn)(*args, **kwargs)
    except Exception as e:  # the exception class is part of what must match
        return type(e).__name__
    array = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
    return type(out).__name__, array.dtype.name, array.shape, np.round(array.astype("float64"), 6).tolist()


UTILS_CASES = [
    ("to_categorical", ([0, 2, 1],), {}), ("to_categorical", ([0, 2, 1],), dict(num_classes=5)),
    ("to_categorical", (np.array([[0], [2]]),), {}), ("to_categorical", (np.array([[0, 1], [2, 1]]),), {}),
    ("to_categorical", (np.array([0.0, 2.7, 1.0]),), {}), ("to_categorical", (np.array(3),), {}),
    ("to_categorical", ([0, 5],), dict(num_classes=3)), ("to_categorical", ([-1, 1],), {}),
    ("to_categorical", (np.array([0, 1], dtype="int8"),), {}), ("to_categorical", ([],), dict(num_classes=3)),
    ("to_categorical", ([0, 1],), dict(num_classes=2.0)), ("to_categorical", (["a"],), {}),
    ("normalize", (np.array([[3.0, 4.0], [1.0, 0.0]]),), {}),
    ("normalize", (np.array([[3.0, 4.0], [1.0, 0.0]]),), dict(axis=0)),
    ("normalize", (np.array([[3.0, 4.0], [1.0, 0.0]]),), dict(order=1)),
    ("normalize", (np.array([[3.0, 4.0], [0.0, 0.0]], "float32"),), dict(order=np.inf)),
    ("normalize", (np.array([3, 4]),), {}), ("normalize", (np.array([[3.0, -4.0]]),), dict(order=3)),
    ("normalize", (torch.tensor([[3.0, 4.0], [1.0, 0.0]]),), dict(axis=0)), ("normalize", ([[3.0, 4.0]],), {}),
    ("normalize", ([3, 4],), {}), ("normalize", (torch.tensor([3, 4]),), {}),
    ("normalize", (torch.tensor([[3.0, 4.0]]),), dict(order=1.5)),
    ("normalize", (np.array([[3.0, 4.0]], "float16"),), {}),
    ("normalize", (np.ones((2, 3, 4)),), dict(axis=1, order=1)),
    ("pad_sequences", ([[1, 2, 3], [4, 5], [6]],), dict(maxlen=2, truncating="post")),
    ("pad_sequences", ([[1, 2, 3], [4, 5], [6]],), dict(padding="post", value=-1)),
    ("pad_sequences", ([[1.5, 2], [3]],), dict(dtype="float32")), ("pad_sequences", ([[1.5, 2], [3]],), {}),
    ("pad_sequences", ([],), {}), ("pad_sequences", ([[1, 2]],), dict(maxlen=0)),
    ("pad_sequences", ([[1, 2]],), dict(maxlen=2.0)), ("pad_sequences", ([[1, 2]],), dict(maxlen=-1)),
    ("pad_sequences", ([[1, 2]],), dict(padding="mid")), ("pad_sequences", ([[], []],), {}),
    ("pad_sequences", ([[[1, 2], [3, 4]], [[5, 6]]],), {}),
]


@pytest.mark.parametrize("fn,args,kwargs", UTILS_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(UTILS_CASES)])
def test_array_utils_match_keras(fn, args, kwargs):
    assert _call(cornu, fn, args, kwargs) == _call(keras_ref, fn, args, kwargs)


def test_progbar_metric_lists_match_keras():
    for kwargs in (dict(), dict(stateful_metrics=["a"]), dict(stateless_metrics=["b"])):
        k, c = keras_ref.utils.Progbar(5, **kwargs), cornu.utils.Progbar(5, **kwargs)
        assert (c.stateful_metrics, c.stateless_metrics) == (k.stateful_metrics, k.stateless_metrics)
    for lib in (keras_ref, cornu):
        with pytest.raises(ValueError):
            lib.utils.Progbar(5, stateful_metrics=["a"], stateless_metrics=["b"])


# ---------------------------------------------------------------- activations

ACTIVATION_NAMES = sorted(n for n in dir(keras_ref.activations)
                          if not n.startswith("_") and n not in ("get", "serialize", "deserialize"))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_every_keras_activation_exists_resolves_and_serializes(name):
    ours = getattr(cornu.activations, name)
    assert cornu.activations.get(name).__name__ == keras_ref.activations.get(name).__name__
    assert cornu.activations.serialize(ours) == keras_ref.activations.serialize(getattr(keras_ref.activations, name))
    if name == "sparsemax":  # Keras 3.15 on torch departs from the definition when several entries survive
        x = torch.tensor([[3.0, 0.1, -1.0, 0.5], [0.2, -1.0, 4.0, 1.0]])
    else:
        x = torch.tensor(np.linspace(-3, 3, 24).reshape(2, 3, 4).astype("float32"))
    args = (0.5, -1.0) if name == "threshold" else ()
    np.testing.assert_allclose(ours(x, *args).numpy(), getattr(keras_ref.activations, name)(x, *args).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "relu6", "hard_tanh", "sigmoid", "tanh", "softsign", "exponential"])
@pytest.mark.parametrize("values", [np.array([-1, 2, 7]), [-1, 2, 7], [-1.0, 2.0], np.array([-1.0, 2.0])],
                         ids=["np-int", "list-int", "list-float", "np-float64"])
def test_activation_result_dtypes_match_keras(name, values):
    k, c = getattr(keras_ref.activations, name)(values), getattr(cornu.activations, name)(values)
    assert c.dtype == k.dtype
    np.testing.assert_allclose(c.numpy(), k.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- initializers

INITIALIZER_CASES = [
    ("RandomNormal", {}), ("RandomUniform", dict(minval=3.0, maxval=1.0, seed=1)), ("TruncatedNormal", dict(seed=4)),
    ("GlorotUniform", {}), ("HeNormal", dict(seed=2)), ("Orthogonal", dict(gain=2.0)),
    ("VarianceScaling", dict(scale=2.0, mode="fan_out", distribution="untruncated_normal")),
    ("Identity", dict(gain=3.0)), ("Constant", dict(value=2.5)),
]


@pytest.mark.parametrize("cls_name,kwargs", INITIALIZER_CASES, ids=[c[0] for c in INITIALIZER_CASES])
def test_initializer_config_and_repeat_semantics_match_keras(cls_name, kwargs):
    k = getattr(keras_ref.initializers, cls_name)(**kwargs)
    c = getattr(cornu.initializers, cls_name)(**kwargs)
    assert c.get_config() == k.get_config()
    assert cornu.initializers.serialize(c) == keras_ref.initializers.serialize(k)
    shape = (5, 4)
    kv, cv = np.asarray(k(shape)), c(shape).numpy()
    assert cv.dtype == kv.dtype and cv.shape == kv.shape
    assert np.array_equal(c(shape).numpy(), cv) == np.array_equal(np.asarray(k(shape)), kv)
    assert (cv.min() >= 1.0 and cv.max() <= 3.0) if cls_name == "RandomUniform" else True


def test_seed_generator_seed_config_and_fresh_draws_match_keras():
    k = keras_ref.initializers.RandomNormal(seed=keras_ref.random.SeedGenerator(3, name="sg"))
    c = cornu.initializers.RandomNormal(seed=cornu.random.SeedGenerator(3, name="sg"))
    assert c.get_config() == k.get_config()
    assert np.array_equal(c((3,)).numpy(), c((3,)).numpy()) == np.array_equal(np.asarray(k((3,))), np.asarray(k((3,))))
    for bad in ("x", 1.5):
        with pytest.raises(ValueError):
            keras_ref.initializers.RandomNormal(seed=bad)
        with pytest.raises(ValueError):
            cornu.initializers.RandomNormal(seed=bad)


def test_a_shared_unseeded_initializer_gives_two_layers_the_same_kernel_like_keras():
    def same(lib):
        init = lib.initializers.GlorotUniform()
        a, b = lib.layers.Dense(3, kernel_initializer=init), lib.layers.Dense(3, kernel_initializer=init)
        a.build((None, 4))
        b.build((None, 4))
        return np.array_equal(np.asarray(a.kernel.numpy()), np.asarray(b.kernel.numpy()))

    assert same(cornu) == same(keras_ref) is True


# ---------------------------------------------------------------- regularizers and constraints

PENALTIES = [("regularizers", "L1", dict(l1=0.5)), ("regularizers", "L2", dict(l2=0.3)),
             ("regularizers", "L1L2", dict(l1=0.1, l2=0.2)), ("regularizers", "OrthogonalRegularizer", {}),
             ("regularizers", "OrthogonalRegularizer", dict(factor=0.1, mode="columns")),
             ("constraints", "MaxNorm", dict(max_value=1.0, axis=1)),
             ("constraints", "MinMaxNorm", dict(min_value=0.5, max_value=1.5, rate=0.5, axis=1)),
             ("constraints", "NonNeg", {}), ("constraints", "UnitNorm", dict(axis=1))]


@pytest.mark.parametrize("module,cls_name,kwargs", PENALTIES, ids=[f"{c[1]}-{i}" for i, c in enumerate(PENALTIES)])
def test_regularizer_and_constraint_configs_and_values_match_keras(module, cls_name, kwargs):
    k = getattr(getattr(keras_ref, module), cls_name)(**kwargs)
    c = getattr(getattr(cornu, module), cls_name)(**kwargs)
    assert c.get_config() == k.get_config()
    assert getattr(cornu, module).serialize(c) == getattr(keras_ref, module).serialize(k)
    w = torch.tensor(np.linspace(-2, 2, 12).reshape(3, 4).astype("float32"))
    np.testing.assert_allclose(np.asarray(c(w)), np.asarray(k(w)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- datasets helpers

@pytest.mark.parametrize("kwargs", [dict(left_size=0.8), dict(right_size=3), dict(left_size=4, right_size=6),
                                    dict(left_size=4, right_size=2), dict(left_size=0.5, right_size=0.3),
                                    dict(left_size=10), dict(left_size=1.5), dict(), dict(left_size=0.0)],
                         ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()) or "none")
def test_split_dataset_sizes_and_errors_match_keras(kwargs):
    data, labels = np.arange(20, dtype="float32").reshape(10, 2), np.arange(10)

    def run(lib):
        try:
            left, right = lib.utils.split_dataset((data, labels), **kwargs)
        except Exception as e:  # the exception class is part of what must match
            return type(e).__name__
        first = next(iter(left))
        return len(left), len(right), [(type(v).__name__, str(v.dtype)) for v in first]

    assert run(cornu) == run(keras_ref)


@pytest.fixture
def local_origins(tmp_path):
    """file:// origins for a plain file, a .tar.gz and a .zip holding it, and the file's sha256 and md5."""
    import hashlib
    import tarfile
    import zipfile

    source = tmp_path / "src"
    source.mkdir()
    plain = source / "data.txt"
    plain.write_bytes(b"hello world\n" * 50)
    with tarfile.open(source / "arch.tar.gz", "w:gz") as tar:
        tar.add(plain, arcname="inner/data.txt")
    with zipfile.ZipFile(source / "arch.zip", "w") as z:
        z.write(plain, arcname="zinner/data.txt")
    payload = plain.read_bytes()
    return ({name: (source / name).as_uri() for name in ("data.txt", "arch.tar.gz", "arch.zip")},
            hashlib.sha256(payload).hexdigest(), hashlib.md5(payload).hexdigest())


GET_FILE_CASES = [
    ("plain", dict(fname="d.txt", origin="data.txt")), ("sha256", dict(fname="d.txt", origin="data.txt", hash="sha")),
    ("md5", dict(fname="d.txt", origin="data.txt", hash="md5")), ("bad hash", dict(fname="d.txt", origin="data.txt",
                                                                                 file_hash="0" * 64)),
    ("no fname", dict(origin="data.txt")), ("subdir", dict(fname="d.txt", origin="data.txt", cache_subdir="sub")),
    ("untar", dict(fname="arch", origin="arch.tar.gz", untar=True)),
    ("extract tar", dict(fname="arch.tar.gz", origin="arch.tar.gz", extract=True)),
    ("extract zip", dict(fname="arch.zip", origin="arch.zip", extract=True)),
    ("extract zip no fname", dict(origin="arch.zip", extract=True)),
    ("fname with a directory", dict(fname="sub/d.txt", origin="data.txt")),
    ("no origin", dict(fname="x.txt", origin=None)),
]


@pytest.mark.parametrize("name,kwargs", GET_FILE_CASES, ids=[c[0] for c in GET_FILE_CASES])
def test_get_file_layout_and_errors_match_keras(tmp_path, local_origins, name, kwargs):
    import contextlib
    import io
    import os

    origins, sha, md5 = local_origins
    kwargs = dict(kwargs)
    if kwargs.get("origin") is not None:
        kwargs["origin"] = origins[kwargs["origin"]]
    if "hash" in kwargs:
        kwargs["file_hash"] = {"sha": sha, "md5": md5}[kwargs.pop("hash")]

    def run(lib):
        cache = tmp_path / lib.__name__
        cache.mkdir()  # Keras falls back to /tmp/.keras when extracting into a cache_dir that does not exist yet
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                path = lib.utils.get_file(cache_dir=str(cache), **kwargs)
        except Exception as e:  # the exception class is part of what must match
            return type(e).__name__
        files = sorted(os.path.relpath(os.path.join(d, f), cache) for d, _, fs in os.walk(cache) for f in fs)
        return os.path.relpath(path, cache), os.path.isdir(path), files

    assert run(cornu) == run(keras_ref)


@pytest.mark.parametrize("kwargs", [dict(), dict(side="imag", window="hamming", scaling="spectrum", periodic=True),
                                    dict(window=None, scaling=None)], ids=["default", "imag", "plain"])
@pytest.mark.parametrize("shape", [(8, 1, 5), (7, 1, 9), (8, 2, 6)])
def test_stft_initializer_matches_keras(kwargs, shape):
    k, c = keras_ref.initializers.STFT(**kwargs), cornu.initializers.STFT(**kwargs)
    assert c.get_config() == k.get_config()
    assert cornu.initializers.serialize(c) == keras_ref.initializers.serialize(k)
    kv, cv = np.asarray(k(shape)), c(shape).numpy()
    assert cv.shape == kv.shape and cv.dtype == kv.dtype
    np.testing.assert_allclose(cv, kv, rtol=1e-5, atol=1e-6)
    for bad in (dict(side="x"), dict(scaling="x"), dict(window="nope")):
        with pytest.raises(ValueError):
            cornu.initializers.STFT(**bad)


@pytest.mark.parametrize("cls_name", ["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint", "CSVLogger",
                                      "LearningRateScheduler", "TerminateOnNaN", "History", "ProgbarLogger",
                                      "LambdaCallback", "BackupAndRestore"])
def test_callback_public_attributes_and_signatures_match_keras(tmp_path, cls_name):
    import inspect

    kwargs = {"ModelCheckpoint": dict(filepath=str(tmp_path / "m.keras")), "CSVLogger": dict(filename="l.csv"),
              "LearningRateScheduler": dict(schedule=abs), "BackupAndRestore": dict(backup_dir=str(tmp_path))}
    k = getattr(keras_ref.callbacks, cls_name)(**kwargs.get(cls_name, {}))
    c = getattr(cornu.callbacks, cls_name)(**kwargs.get(cls_name, {}))
    public = {a: v for a, v in vars(k).items() if not a.startswith("_") and a not in ("params", "model", "monitor_op")}
    assert {a: getattr(c, a, "<missing>") for a in public} == public
    signature = [(p.name, p.default) for p in inspect.signature(type(k).__init__).parameters.values()]
    assert [(p.name, p.default) for p in inspect.signature(type(c).__init__).parameters.values()] == signature


@pytest.mark.parametrize("grads", [[[1.0, 2.0], 3.0], [[1.0, float("inf")], 3.0], [[1.0, 2.0], None],
                                   [[float("nan")], None]], ids=["finite", "inf", "none", "nan"])
def test_loss_scale_optimizer_check_finite_matches_keras(grads):
    def run(lib):
        opt = lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD())
        out = opt.check_finite([None if g is None else torch.tensor(g) for g in grads])
        return out.dtype, bool(out)

    assert run(cornu) == run(keras_ref)


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Ftrl",
                                      "Lion", "Lamb", "Adafactor", "Muon"])
def test_optimizer_variables_after_fit_match_keras(cls_name):
    def run(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="s")
        model.compile(optimizer=getattr(lib.optimizers, cls_name)(name="o"), loss="mse")
        model.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), epochs=1, batch_size=4, verbose=0)
        return [(v.path, v.name, v.dtype, tuple(v.shape)) for v in model.optimizer.variables]

    assert run(cornu) == run(keras_ref)


def test_multi_optimizer_routes_and_reports_like_keras():
    def run(lib):
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(8, 3)).astype("float32"), np.ones((8, 2), "float32")
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, name="enc"), lib.layers.Dense(2, name="dec")],
                               name="s")
        model.set_weights([np.full(w.shape, 0.1 * (i + 1), "float32") for i, w in enumerate(model.get_weights())])
        mapping = lib.optimizers.OptimizerMap(default_optimizer=lib.optimizers.SGD(name="sgd", learning_rate=0.1),
                                              optimizer_map={"s/enc/.*": lib.optimizers.Adam(name="adam",
                                                                                           learning_rate=0.05)})
        multi = lib.optimizers.MultiOptimizer(mapping, name="multi")
        model.compile(optimizer=multi, loss="mse")
        model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        config = multi.get_config()
        inner = config["optimizer_map"]["config"]
        for entry in [inner["default_optimizer"], *inner["optimizer_map"].values()]:
            entry.pop("module"), entry.pop("registered_name")  # Keras names its torch subclasses there
        with pytest.raises(AttributeError):
            multi.learning_rate
        return ([np.round(w, 5).tolist() for w in model.get_weights()],
                [(v.path, v.dtype, tuple(v.shape)) for v in multi.variables],
                int(multi.iterations), [(o.name, int(o.iterations)) for o in multi.optimizers], config)

    assert run(cornu) == run(keras_ref)


@pytest.mark.parametrize("cls_name", ["RandomNormal", "RandomUniform", "GlorotUniform", "Orthogonal", "Identity",
                                      "Constant", "Zeros", "STFT"])
def test_initializers_with_an_integer_dtype_behave_like_keras(cls_name):
    shape = (4, 1, 3) if cls_name == "STFT" else (3, 3)

    def run(lib):
        try:
            return str(getattr(lib.initializers, cls_name)()(shape, dtype="int32").dtype)
        except NotImplementedError:
            return "NotImplementedError"

    assert run(cornu) == run(keras_ref)
