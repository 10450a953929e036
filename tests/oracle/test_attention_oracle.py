"""Attention layers, Masking and masks through functional models against real Keras 3 (torch backend).

The same weights go into both libraries (Keras's initial weights copied into cornu); outputs, attention
scores, symbolic shapes, weight names/shapes, configs, weights files and error classes must agree.
"""
import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, f64, random_array

Q = random_array((2, 3, 4), seed=1)
V = random_array((2, 5, 4), seed=2)
Q_MASK = np.array([[1, 1, 0], [1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
ATT_MASK = np.random.default_rng(0).random((2, 3, 5)) > 0.3
ATT_MASK[0, 1] = False  # a query step that may attend to nothing
TOKENS = np.array([[3, 5, 2, 0, 0], [7, 1, 0, 0, 0], [4, 4, 4, 4, 1]])


def normalize(config):
    """A Keras config in cornu's spelling: dtype policies by name, initializer configs without unset fan axes.

    Layer names are left out: automatic names count the layers a process made before (other test files).
    """
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return config["config"]["name"]
        out = {k: normalize(v) for k, v in config.items() if k not in ("module", "registered_name", "name")}
        if "class_name" in out and isinstance(out.get("config"), dict):
            out["config"] = {k: v for k, v in out["config"].items()
                             if not (k in ("input_axes", "output_axes") and v is None)}
        return out
    if isinstance(config, (list, tuple)):
        return type(config)(normalize(v) for v in config)
    return config


def paired(keras_ref, cls, *args, inputs=(Q, V), call_kwargs=None, **kwargs):
    """The same layer in both libraries, built on ``inputs``, with Keras's (random) weights copied into cornu.

    Both get the same explicit name: automatic names count the layers the process made before.
    """
    kwargs.setdefault("name", f"paired_{cls.lower()}")
    ours = getattr(cornu.layers, cls)(*args, **kwargs)
    ref = getattr(keras_ref.layers, cls)(*args, **kwargs)
    ref(*inputs, **(call_kwargs or {}))
    ours(*inputs, **(call_kwargs or {}))
    assert [(w.name, tuple(w.shape)) for w in ours.weights] == [(w.name, tuple(w.shape)) for w in ref.weights]
    ours.set_weights([np.asarray(w) for w in ref.get_weights()])
    return ours, ref


def same(ours, ref, rtol=1e-5, atol=1e-6):
    if isinstance(ref, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(ref)
        for o, r in zip(ours, ref):
            same(o, r, rtol, atol)
        return
    assert tuple(ours.shape) == tuple(ref.shape)
    assert_close(ours, f64(ref), rtol=rtol, atol=atol)


def tensors(keras_ref, masks):
    """Query and value as torch tensors carrying ``_keras_mask`` (how both libraries attach masks)."""
    out = []
    for x, m in zip((Q, V), masks):
        t = torch.tensor(x)
        if m is not None:
            t._keras_mask = torch.tensor(m)
        out.append(t)
    return out


# ------------------------------------------------------------------------------------------- EinsumDense
EINSUM_CASES = [
    ("ab,bc->ac", 4, "c", (2, 3)),
    ("abc,cd->abd", (None, 4), "d", (2, 5, 3)),
    ("abc,cde->abde", (None, 2, 4), "de", (2, 5, 3)),
    ("abc,cde->abde", (5, 2, 4), "be", (2, 5, 3)),
    ("...b,bc->...c", 4, "c", (2, 5, 3)),
    ("ab...,bc->ac...", 4, "c", (2, 3, 5, 6)),
    ("abcd,cde->abe", (None, 6), None, (2, 5, 2, 4)),
]


@pytest.mark.parametrize("equation, output_shape, bias_axes, shape", EINSUM_CASES)
def test_einsum_dense_matches_keras(keras_ref, equation, output_shape, bias_axes, shape):
    x = random_array(shape, seed=3)
    kwargs = dict(equation=equation, output_shape=output_shape, bias_axes=bias_axes, activation="tanh")
    ours, ref = paired(keras_ref, "EinsumDense", inputs=(x,), **kwargs)
    same(ours(x), ref(x))
    assert normalize(ref.get_config()) == normalize(ours.get_config())
    symbolic_ours = cornu.layers.EinsumDense(**kwargs)(cornu.Input(shape[1:]))
    symbolic_ref = keras_ref.layers.EinsumDense(**kwargs)(keras_ref.Input(shape[1:]))
    assert symbolic_ours.shape == tuple(symbolic_ref.shape)


def test_einsum_dense_lora_config_and_weights(keras_ref):
    x = random_array((2, 5, 3), seed=3)
    ours, ref = paired(keras_ref, "EinsumDense", inputs=(x,), equation="abc,cde->abde", output_shape=(None, 2, 4),
                       bias_axes="de", lora_rank=2)
    assert [w.trainable for w in ours.weights] == [w.trainable for w in ref.weights]
    ref.lora_kernel_b.assign(random_array((2, 4), seed=8))
    ours.set_weights([np.asarray(w) for w in ref.get_weights()])
    same(ours(x), ref(x))
    assert normalize(ref.get_config()) == normalize(ours.get_config())


@pytest.mark.parametrize("kwargs, shape", [
    (dict(equation="ab,bc", output_shape=4), (2, 3)),
    (dict(equation="ab,bc->ac", output_shape=4, bias_axes="x"), (2, 3)),
    (dict(equation="abc,cd->abx", output_shape=(None, 4)), (2, 5, 3)),
    (dict(equation="abc,cdx->abd", output_shape=(None, 4)), (2, 5, 3)),
    (dict(equation="abc,cd->abd", output_shape=(6, 4)), (2, 5, 3)),
    (dict(equation="abc,cd->abd", output_shape=(None, 4), bias_axes="bd"), (2, 5, 3)),
])
def test_einsum_dense_error_classes(keras_ref, kwargs, shape):
    x = np.ones(shape, "float32")
    with pytest.raises(ValueError):
        keras_ref.layers.EinsumDense(**kwargs)(x)
    with pytest.raises(ValueError):
        cornu.layers.EinsumDense(**kwargs)(x)


# ------------------------------------------------------------------------------- Attention, Additive
@pytest.mark.parametrize("cls, kwargs", [
    ("Attention", {}), ("Attention", dict(use_scale=True)), ("Attention", dict(score_mode="concat")),
    ("Attention", dict(score_mode="concat", use_scale=True, dropout=0.2, seed=3)),
    ("AdditiveAttention", {}), ("AdditiveAttention", dict(use_scale=False)),
])
def test_luong_and_bahdanau_attention_match_keras(keras_ref, cls, kwargs):
    ours, ref = paired(keras_ref, cls, inputs=([Q, V],), **kwargs)
    ours.set_weights([random_array(w.shape, seed=5) + 1.0 for w in ref.weights])
    ref.set_weights(ours.get_weights())
    key = random_array((2, 5, 4), seed=6)
    for inputs in ([Q, V], [Q, V, key]):
        for call in (dict(), dict(mask=[Q_MASK, V_MASK]), dict(mask=[None, V_MASK]), dict(use_causal_mask=True),
                     dict(mask=[Q_MASK, np.zeros((2, 5), bool)])):
            same(ours(inputs, **call), ref(inputs, **call))
            same(ours(inputs, return_attention_scores=True, **call), ref(inputs, return_attention_scores=True, **call))
    assert normalize(ref.get_config()) == normalize(ours.get_config())
    out_ours = ours(tensors(keras_ref, (Q_MASK, V_MASK)))
    out_ref = ref(tensors(keras_ref, (Q_MASK, V_MASK)))
    same(out_ours, out_ref)
    np.testing.assert_array_equal(out_ours._keras_mask.numpy(), out_ref._keras_mask.numpy())


@pytest.mark.parametrize("call", [
    lambda L: L.Attention()(Q), lambda L: L.Attention()([Q]), lambda L: L.Attention(score_mode="x"),
    lambda L: L.Attention()([Q, V], mask=Q_MASK), lambda L: L.AdditiveAttention()([Q, V, V, V]),
])
def test_attention_error_classes(keras_ref, call):
    with pytest.raises(ValueError):
        call(keras_ref.layers)
    with pytest.raises(ValueError):
        call(cornu.layers)


# ----------------------------------------------------------------------------- MultiHeadAttention
MHA_VARIANTS = [
    {}, dict(value_dim=5, use_gate=True, output_shape=(2, 7)), dict(use_bias=False, output_shape=6),
    dict(dropout=0.3), dict(sliding_window=2),
]
CALLS = [dict(), dict(attention_mask=ATT_MASK), dict(use_causal_mask=True), dict(value_mask=V_MASK),
         dict(key=V * 0.5, key_mask=V_MASK), dict(attention_mask=ATT_MASK[0]), dict(query_mask=Q_MASK),
         dict(attention_mask=ATT_MASK, use_causal_mask=True)]


@pytest.mark.parametrize("kwargs", MHA_VARIANTS)
def test_multi_head_attention_matches_keras(keras_ref, kwargs):
    ours, ref = paired(keras_ref, "MultiHeadAttention", 2, 3, **kwargs)
    assert [w.path for w in ours.weights] == [w.path for w in ref.weights]
    for call in CALLS:
        same(ours(Q, V, **call), ref(Q, V, **call), atol=2e-6)
        same(ours(Q, V, return_attention_scores=True, **call), ref(Q, V, return_attention_scores=True, **call),
             atol=2e-6)
    for scores in (False, True):
        got = ours(*tensors(keras_ref, (Q_MASK, V_MASK)), return_attention_scores=scores)
        want = ref(*tensors(keras_ref, (Q_MASK, V_MASK)), return_attention_scores=scores)
        same(got, want, atol=2e-6)
    assert normalize(ref.get_config()) == normalize(ours.get_config())
    assert ref.get_build_config() == ours.get_build_config()


@pytest.mark.parametrize("kwargs", [dict(attention_axes=(1, 2)), dict(attention_axes=2),
                                    dict(attention_axes=(2,), output_shape=7)])
def test_multi_head_attention_axes_match_keras(keras_ref, kwargs):
    x = random_array((2, 3, 4, 5), seed=6)
    ours, ref = paired(keras_ref, "MultiHeadAttention", 2, 3, inputs=(x, x), **kwargs)
    shape = (2, 3, 4, 3, 4) if kwargs["attention_axes"] == (1, 2) else (2, 3, 4, 4)
    mask = np.random.default_rng(2).random(shape) > 0.3
    for call in (dict(), dict(attention_mask=mask)):
        same(ours(x, x, **call), ref(x, x, **call), atol=2e-6)
        same(ours(x, x, return_attention_scores=True, **call), ref(x, x, return_attention_scores=True, **call),
             atol=2e-6)
    assert normalize(ref.get_config()) == normalize(ours.get_config())


def test_multi_head_attention_symbolic_and_errors(keras_ref):
    for L, make_input in ((keras_ref.layers, keras_ref.Input), (cornu.layers, cornu.Input)):
        q, v = make_input((3, 4)), make_input((5, 6))
        out, scores = L.MultiHeadAttention(2, 3, output_shape=7)(q, v, return_attention_scores=True)
        assert tuple(out.shape) == (None, 3, 7)
        assert tuple(L.MultiHeadAttention(2, 3)(q, v).shape) == (None, 3, 4)
    # Keras 3.15 reports symbolic scores as (None, 2, 3, 3) (the query length twice); they are (batch, heads, 3, 5).
    assert scores.shape == (None, 2, 3, 5)
    assert normalize(keras_ref.layers.MultiHeadAttention(2, 3, attention_axes=2).get_config()) == \
        normalize(cornu.layers.MultiHeadAttention(2, 3, attention_axes=2).get_config())
    for make, error in [
        (lambda L: L.MultiHeadAttention(0, 3), ValueError), (lambda L: L.MultiHeadAttention(2, 0), ValueError),
        (lambda L: L.MultiHeadAttention(2, 3, sliding_window=0), ValueError),
        (lambda L: L.MultiHeadAttention(2, 3, dropout=0.1, flash_attention=True), ValueError),
        (lambda L: L.MultiHeadAttention(2, 3)(Q, V, key=np.ones((2, 6, 4), "float32")), ValueError),
        (lambda L: L.MultiHeadAttention(2, 3, flash_attention=True)(Q, V, return_attention_scores=True), ValueError),
        (lambda L: L.MultiHeadAttention(2, 3)(Q), TypeError),
    ]:
        with pytest.raises(error):
            make(keras_ref.layers)
        with pytest.raises(error):
            make(cornu.layers)


# ----------------------------------------------------------------------------- GroupQueryAttention
@pytest.mark.parametrize("heads, kwargs", [((3, 4, 2), {}), ((3, 4, 1), dict(use_bias=False)),
                                           ((2, 4, 2), dict(use_gate=True, dropout=0.2)),
                                           ((3, 2, 2), dict(sliding_window=2))])
def test_grouped_query_attention_matches_keras(keras_ref, heads, kwargs):
    ours, ref = paired(keras_ref, "GroupQueryAttention", *heads, **kwargs)
    assert [w.path for w in ours.weights] == [w.path for w in ref.weights]
    for call in CALLS:
        same(ours(Q, V, **call), ref(Q, V, **call), atol=2e-6)
        same(ours(Q, V, return_attention_scores=True, **call), ref(Q, V, return_attention_scores=True, **call),
             atol=2e-6)
    same(ours(*tensors(keras_ref, (Q_MASK, V_MASK))), ref(*tensors(keras_ref, (Q_MASK, V_MASK))), atol=2e-6)
    assert normalize(ref.get_config()) == normalize(ours.get_config())
    with pytest.raises(ValueError):
        keras_ref.layers.GroupQueryAttention(3, 3, 2)
    with pytest.raises(ValueError):
        cornu.layers.GroupQueryAttention(3, 3, 2)


# --------------------------------------------------------------------------------------- Masking
def test_masking_matches_keras(keras_ref):
    x = random_array((3, 5, 2), seed=4)
    x[0, 1] = 0.0
    x[2, 4] = 7.0
    for value in (0.0, 7.0):
        ours, ref = cornu.layers.Masking(mask_value=value), keras_ref.layers.Masking(mask_value=value)
        got, want = ours(x), ref(x)
        same(got, want)
        np.testing.assert_array_equal(got._keras_mask.numpy(), want._keras_mask.numpy())
        assert normalize(ref.get_config()) == normalize(ours.get_config())
    assert tuple(keras_ref.layers.Masking()(keras_ref.Input((5, 2)))._keras_mask.shape) == \
        cornu.layers.Masking()(cornu.Input((5, 2)))._keras_mask.shape


# ------------------------------------------------------------------------ masks in functional models
def _copy_model_weights(ours, ref):
    ours.set_weights([np.asarray(w) for w in ref.get_weights()])


def _embedding_pool_dense(lib):
    inp = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(10, 4, mask_zero=True)(inp)
    x = lib.layers.GlobalAveragePooling1D()(x)
    return lib.Model(inp, lib.layers.Dense(3, activation="softmax")(x))


def test_embedding_mask_pooling_dense_predictions_match_keras(keras_ref):
    ours, ref = _embedding_pool_dense(cornu), _embedding_pool_dense(keras_ref)
    _copy_model_weights(ours, ref)
    same(ours.predict(TOKENS, verbose=0), ref.predict(TOKENS, verbose=0))
    # The padding really is ignored: changing only padded positions' embeddings changes nothing.
    table = ours.get_weights()[0].copy()
    table[0] += 10.0
    ours.set_weights([table] + ours.get_weights()[1:])
    same(ours.predict(TOKENS, verbose=0), ref.predict(TOKENS, verbose=0))


def _masked_attention_model(lib):
    # One Masking per consumer: Keras 3.15's MultiHeadAttention deletes the mask from its query tensor object
    # when called, so a second consumer of that tensor would run unmasked in Keras (not in cornu).
    inp = lib.Input((5, 4))
    a = lib.layers.MultiHeadAttention(2, 3)(lib.layers.Masking()(inp), lib.layers.Masking()(inp))
    b = lib.layers.Attention(use_scale=True)([lib.layers.Masking()(inp), a])
    c = lib.layers.GroupQueryAttention(3, 4, 2)(b, lib.layers.Masking()(inp))
    return lib.Model(inp, lib.layers.GlobalAveragePooling1D()(c))


def test_masks_reach_attention_layers_as_in_keras(keras_ref):
    x = random_array((3, 5, 4), seed=7)
    x[TOKENS == 0] = 0.0
    ours, ref = _masked_attention_model(cornu), _masked_attention_model(keras_ref)
    _copy_model_weights(ours, ref)
    same(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=2e-6)


def _sequence_model(lib):
    inp = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(10, 4, mask_zero=True)(inp)
    x = lib.layers.Dense(3, activation="tanh")(x)
    return lib.Model(inp, lib.layers.Dense(2)(x))


def test_masked_loss_metrics_and_training_match_keras(keras_ref):
    y = random_array((3, 5, 2), seed=8)
    ours, ref = _sequence_model(cornu), _sequence_model(keras_ref)
    _copy_model_weights(ours, ref)
    for model in (ours, ref):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert_close(ours.evaluate(TOKENS, y, verbose=0), ref.evaluate(TOKENS, y, verbose=0))
    hist_ours = ours.fit(TOKENS, y, epochs=3, batch_size=3, verbose=0).history
    hist_ref = ref.fit(TOKENS, y, epochs=3, batch_size=3, verbose=0).history
    assert_close(hist_ours["loss"], hist_ref["loss"])
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        assert_close(a, b)


def test_recurrent_layers_get_the_embedding_mask_as_in_keras(keras_ref):
    if not hasattr(cornu.layers, "LSTM"):
        pytest.skip("cornu.layers.LSTM is not available")

    def build(lib):
        inp = lib.Input((5,), dtype="int32")
        x = lib.layers.Embedding(10, 4, mask_zero=True)(inp)
        x = lib.layers.Bidirectional(lib.layers.LSTM(3, return_sequences=True))(x)
        x = lib.layers.LSTM(3)(x)
        return lib.Model(inp, lib.layers.Dense(1)(x))

    ours, ref = build(cornu), build(keras_ref)
    _copy_model_weights(ours, ref)
    same(ours.predict(TOKENS, verbose=0), ref.predict(TOKENS, verbose=0), atol=2e-6)


def test_weights_files_interchange_with_keras(keras_ref, tmp_path):
    def build(lib):
        q, v = lib.Input((3, 4)), lib.Input((5, 4))
        a = lib.layers.MultiHeadAttention(2, 3, use_gate=True)(q, v)
        b = lib.layers.Attention(use_scale=True, score_mode="concat")([a, v])
        c = lib.layers.AdditiveAttention()([b, v])
        return lib.Model([q, v], lib.layers.EinsumDense("abc,cd->abd", (None, 2), bias_axes="d")(c))

    ours, ref = build(cornu), build(keras_ref)
    ref.save_weights(tmp_path / "keras.weights.h5")
    ours.load_weights(tmp_path / "keras.weights.h5")
    same(ours.predict([Q, V], verbose=0), ref.predict([Q, V], verbose=0))
    fresh = build(keras_ref)
    ours.save_weights(tmp_path / "cornu.weights.h5")
    fresh.load_weights(tmp_path / "cornu.weights.h5")
    same(ours.predict([Q, V], verbose=0), fresh.predict([Q, V], verbose=0))


def _archive_model(lib, with_gqa=False):
    q, v = lib.Input((3, 4)), lib.Input((5, 4))
    a = lib.layers.MultiHeadAttention(2, 3, use_gate=True)(lib.layers.Masking()(q), v)
    if with_gqa:
        a = lib.layers.GroupQueryAttention(3, 4, 2)(a, v)
    b = lib.layers.Attention(use_scale=True)([a, v])
    c = lib.layers.AdditiveAttention()([b, v])
    return lib.Model([q, v], lib.layers.EinsumDense("abc,cd->abd", (None, 2), bias_axes="d")(c))


def _archives_interchange(keras_ref, tmp_path, with_gqa):
    ours, ref = _archive_model(cornu, with_gqa), _archive_model(keras_ref, with_gqa)
    ref.save(tmp_path / "keras.keras")
    same(cornu.models.load_model(tmp_path / "keras.keras").predict([Q, V], verbose=0),
         ref.predict([Q, V], verbose=0))
    ours.save(tmp_path / "cornu.keras")
    same(ours.predict([Q, V], verbose=0),
         keras_ref.models.load_model(tmp_path / "cornu.keras").predict([Q, V], verbose=0))


def test_keras_archives_interchange(keras_ref, tmp_path):
    _archives_interchange(keras_ref, tmp_path, with_gqa=False)


def test_keras_archives_interchange_with_grouped_query_attention(keras_ref, tmp_path):
    _archives_interchange(keras_ref, tmp_path, with_gqa=True)
