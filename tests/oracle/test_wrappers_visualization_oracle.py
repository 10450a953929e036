"""Differential tests against Keras 3.15: utils.bounding_boxes, visualization and the scikit-learn wrappers."""
import numpy as np
import pytest
import torch

import cornu
from tests.helpers import assert_close, seeded
from tests.utils.test_bounding_boxes import FORMATS, H, W, np_from_xyxy, xyxy_boxes


def _both(keras_ref, name, *args, **kwargs):
    ours = getattr(cornu.utils.bounding_boxes, name)(*args, **kwargs)
    theirs = getattr(keras_ref.utils.bounding_boxes, name)(*args, **kwargs)
    return ours, theirs


def _same(ours, theirs, rtol=1e-5, atol=1e-5):
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs)
        for k in theirs:
            _same(ours[k], theirs[k], rtol, atol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert_close(ours, theirs, rtol=rtol, atol=atol)


def test_public_names_match(keras_ref):
    names = {n for n in dir(keras_ref.utils.bounding_boxes) if not n.startswith("_")}
    assert names == {n for n in dir(cornu.utils.bounding_boxes) if not n.startswith("_")} - {"converters", "formats",
                                                                                            "iou"}


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("dst", ["xyxy", "rel_yxyx", "center_yxhw", "xywh", "rel_center_xywh"])
def test_convert_format(keras_ref, src, dst):
    b = np_from_xyxy(xyxy_boxes((2, 5)), src).astype("float32")
    _same(*_both(keras_ref, "convert_format", b, src, dst, height=H, width=W))
    _same(*_both(keras_ref, "convert_format", {"boxes": b[0], "labels": np.arange(5)}, src, dst, height=H, width=W))


def test_convert_format_errors(keras_ref):
    b = xyxy_boxes((3,))
    for args, kw in [(("abc", "xyxy"), {}), (("xyxy", "rel_xyxy"), {}), (("rel_xyxy", "xywh"), {})]:
        with pytest.raises(ValueError):
            keras_ref.utils.bounding_boxes.convert_format(b, *args, **kw)
        with pytest.raises(ValueError):
            cornu.utils.bounding_boxes.convert_format(b, *args, **kw)


def test_clip_crop_pad(keras_ref):
    rng = seeded(3)
    b = (rng.uniform(-0.3, 1.3, (2, 6, 4)) * [W, H, W, H]).astype("float32")
    b = np.concatenate([np.minimum(b[..., :2], b[..., 2:]), np.maximum(b[..., :2], b[..., 2:])], -1)
    labels = rng.integers(0, 5, (2, 6))
    _same(*_both(keras_ref, "clip_to_image_size", {"boxes": b, "labels": labels}, height=H, width=W))
    _same(*_both(keras_ref, "clip_to_image_size", {"boxes": b[0] / 150, "labels": labels[0]},
                 bounding_box_format="rel_xyxy"))
    for fmt in ["xywh", "yxyx"]:
        with pytest.raises(NotImplementedError):
            cornu.utils.bounding_boxes.clip_to_image_size({"boxes": b}, height=H, width=W, bounding_box_format=fmt)
    _same(*_both(keras_ref, "crop", b, top=10, left=20, height=40, width=30))
    _same(*_both(keras_ref, "pad", b, top=10, left=20))


@pytest.mark.parametrize("center", [False, True])
def test_affine_transform(keras_ref, center):
    fmt = "xyxy"
    rng = seeded(4)
    b = np_from_xyxy(xyxy_boxes((3, 4), seed=5), fmt).astype("float32")
    p = dict(angle=rng.uniform(-60, 60, 3), translate_x=rng.uniform(-0.2, 0.2, 3),
             translate_y=rng.uniform(-0.2, 0.2, 3), scale=rng.uniform(0.7, 1.4, 3),
             shear_x=rng.uniform(-20, 20, 3), shear_y=rng.uniform(-20, 20, 3))
    if center:
        p.update(center_x=rng.uniform(0, 1, 3), center_y=rng.uniform(0, 1, 3))
    _same(*_both(keras_ref, "affine_transform", b, height=H, width=W, bounding_box_format=fmt, **p), atol=1e-4)
    for lib in (keras_ref, cornu):
        with pytest.raises(NotImplementedError):
            lib.utils.bounding_boxes.affine_transform(b, height=H, width=W, bounding_box_format="xywh", **p)


@pytest.mark.parametrize("enc", ["center_yxhw", "center_xywh"])
@pytest.mark.parametrize("variance", [None, [0.1, 0.1, 0.2, 0.2]])
def test_encode_decode(keras_ref, enc, variance):
    anchors = xyxy_boxes((6,), seed=6)
    boxes = torch.as_tensor(np_from_xyxy(xyxy_boxes((2, 6), seed=7), "xywh").astype("float32"))
    kw = dict(variance=variance)
    ours, theirs = _both(keras_ref, "encode_box_to_deltas", anchors, boxes, "xyxy", "xywh", encoding_format=enc, **kw)
    _same(ours, theirs, atol=1e-4)
    _same(*_both(keras_ref, "decode_deltas_to_boxes", anchors, theirs, "xyxy", "rel_xyxy", encoded_format=enc,
                 image_shape=(H, W, 3), **kw), atol=1e-4)
    _same(*_both(keras_ref, "decode_deltas_to_boxes", {"a": anchors}, {"a": theirs[0]}, "xyxy", "xywh",
                 encoded_format=enc, **kw), atol=1e-3)
    for name, kwargs in [("encode_box_to_deltas", dict(variance=[1, 2])),
                         ("encode_box_to_deltas", dict(encoding_format="xyxy")),
                         ("decode_deltas_to_boxes", dict(encoded_format="xyxy"))]:
        second = boxes if name.startswith("encode") else theirs
        with pytest.raises(ValueError):
            getattr(keras_ref.utils.bounding_boxes, name)(anchors, second, "xyxy", "xywh", **kwargs)
        with pytest.raises(ValueError):
            getattr(cornu.utils.bounding_boxes, name)(anchors, second, "xyxy", "xywh", **kwargs)


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "center_yxhw", "rel_xyxy"])
def test_iou_ciou(keras_ref, fmt):
    a = np_from_xyxy(xyxy_boxes((2, 5), seed=8), fmt).astype("float32")
    b = np_from_xyxy(xyxy_boxes((2, 5), seed=9), fmt).astype("float32")
    b[0, 0] = b[0, 1]  # one identical pair
    kw = dict(image_shape=(H, W, 3)) if fmt.startswith("rel") else {}
    _same(*_both(keras_ref, "compute_iou", a, b, fmt, **kw))
    _same(*_both(keras_ref, "compute_iou", a[0], b, fmt, **kw))
    masked = np.concatenate([a[0], -np.ones((1, 4), "float32")])
    _same(*_both(keras_ref, "compute_iou", masked, b[0], fmt, use_masking=True, mask_val=-3, **kw))
    if fmt.startswith("rel"):
        # Keras 3.15's compute_ciou rejects relative formats even with image_shape; cornu converts them
        ours = cornu.utils.bounding_boxes.compute_ciou(a, b, fmt, **kw)
        theirs = keras_ref.utils.bounding_boxes.compute_ciou(a * [W, H, W, H], b * [W, H, W, H], fmt[4:])
        assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    else:
        _same(*_both(keras_ref, "compute_ciou", a, b, fmt, **kw), atol=1e-5)
    with pytest.raises(ValueError):
        cornu.utils.bounding_boxes.compute_iou(a, b, "abc")
    with pytest.raises(ValueError):
        keras_ref.utils.bounding_boxes.compute_iou(a, b, "abc")


# ---------------------------------------------------------------- scikit-learn wrappers

def _fixed_model(lib, seen):
    """A model callable for ``lib`` (cornu or Keras) with fixed weights and a zero learning rate, so fitting
    leaves both libraries with the same network."""
    def build(X, y):
        seen.append(y)
        rng = seeded(11)
        n_out = y.shape[1]
        inp = lib.Input(shape=(X.shape[1],))
        hidden = lib.layers.Dense(5, activation="tanh", name="hidden")(inp)
        out = lib.layers.Dense(n_out, activation="softmax" if n_out > 1 else None, name="out")(hidden)
        model = lib.Model(inp, out)
        model.get_layer("hidden").set_weights([rng.normal(size=(X.shape[1], 5)).astype("float32"),
                                               rng.normal(size=5).astype("float32")])
        model.get_layer("out").set_weights([rng.normal(size=(5, n_out)).astype("float32"),
                                            rng.normal(size=n_out).astype("float32")])
        model.compile(loss="mse", optimizer=lib.optimizers.SGD(learning_rate=0.0))
        return model
    return build


@pytest.fixture
def quiet(keras_ref):
    keras_ref.utils.disable_interactive_logging()
    cornu.utils.disable_interactive_logging()
    yield
    keras_ref.utils.enable_interactive_logging()
    cornu.utils.enable_interactive_logging()


@pytest.mark.parametrize("labels", [np.array([3, 7, 9]), np.array(["x", "y", "z"]), np.array([0, 1, 1])])
def test_classifier_matches_keras(keras_ref, quiet, labels):
    X = seeded(12).normal(size=(20, 4))
    y = labels[seeded(13).integers(0, 3, 20)]
    fits = {}
    for lib in (cornu, keras_ref):
        seen = []
        est = getattr(lib.wrappers, "SKLearnClassifier")(_fixed_model(lib, seen), fit_kwargs={"epochs": 1,
                                                                                              "verbose": 0})
        fits[lib] = (est.fit(X, y), seen[0])
    (ours, our_y), (theirs, their_y) = fits[cornu], fits[keras_ref]
    np.testing.assert_array_equal(our_y, their_y)
    assert our_y.dtype == their_y.dtype
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert_close(ours.decision_function(X), theirs.decision_function(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.predict(X).dtype == theirs.predict(X).dtype
    assert ours.score(X, y) == theirs.score(X, y)
    assert ours.get_params().keys() == theirs.get_params().keys()
    assert ours.__sklearn_tags__() == theirs.__sklearn_tags__()
    assert hasattr(ours, "predict_proba") == hasattr(theirs, "predict_proba")


def test_regressor_transformer_match_keras(keras_ref, quiet):
    X = seeded(14).normal(size=(16, 3))
    y = X[:, 0] * 2 - X[:, 2]
    for name, method in [("SKLearnRegressor", "predict"), ("SKLearnTransformer", "transform")]:
        outs, tags = [], []
        for lib in (cornu, keras_ref):
            seen = []
            est = getattr(lib.wrappers, name)(_fixed_model(lib, seen), fit_kwargs={"epochs": 1, "verbose": 0})
            est.fit(X, y)
            outs.append(getattr(est, method)(X))
            tags.append(est.__sklearn_tags__())
            assert seen[0].shape == (16, 1)
            if name == "SKLearnRegressor":
                outs.append(est.score(X, y))
        assert outs[0].shape == outs[2 if name == "SKLearnRegressor" else 1].shape
        assert_close(outs[0], outs[2 if name == "SKLearnRegressor" else 1], rtol=1e-5, atol=1e-6)
        assert tags[0] == tags[1]


def test_wrapper_errors_match_keras(keras_ref, quiet):
    from sklearn.exceptions import NotFittedError

    X, y = seeded(15).normal(size=(12, 3)), np.arange(12) % 3
    for lib in (cornu, keras_ref):
        wr = lib.wrappers
        with pytest.raises(NotFittedError):
            wr.SKLearnClassifier(_fixed_model(lib, [])).predict(X)
        with pytest.raises(ValueError):
            wr.SKLearnClassifier(_fixed_model(lib, [])).fit(X, np.eye(3)[y])
        with pytest.raises(ValueError, match="continuous"):
            wr.SKLearnClassifier(_fixed_model(lib, [])).fit(X, X[:, 0])
        fitted = wr.SKLearnRegressor(_fixed_model(lib, []), fit_kwargs={"epochs": 1, "verbose": 0}).fit(X, y)
        with pytest.raises(ValueError):
            fitted.predict(X[:, :2])
        inp = lib.Input(shape=(3,))
        with pytest.raises(RuntimeError):
            wr.SKLearnRegressor(lib.Model(inp, lib.layers.Dense(1)(inp))).fit(X, y)


# ---------------------------------------------------------------- visualization

@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield plt
    plt.close("all")


def _gallery(plt, fn, *args, **kwargs):
    fn(*args, show=False, **kwargs)
    fig = plt.gcf()
    out = dict(n=len(fig.axes), size=tuple(fig.get_size_inches()), titles=[ax.get_title() for ax in fig.axes],
               arrays=[np.asarray(ax.get_images()[0].get_array()) for ax in fig.axes if ax.get_images()],
               legends=[[t.get_text() for t in lg.texts] for lg in fig.legends])
    plt.close("all")
    return out


def _same_gallery(a, b):
    assert (a["n"], a["size"], a["titles"], a["legends"]) == (b["n"], b["size"], b["titles"], b["legends"])
    assert len(a["arrays"]) == len(b["arrays"])
    for x, y in zip(a["arrays"], b["arrays"]):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("n, kwargs", [(1, {}), (3, {}), (5, {}), (9, {}), (10, {}), (5, {"rows": 2}),
                                       (6, {"rows": 2, "cols": 3, "scale": 3}),
                                       (4, {"value_range": (-1, 1)}),
                                       (4, {"y_true": [0, 1, 1, 0], "y_pred": [1, 1, 0, 0],
                                            "label_map": {0: "cat", 1: "dog"}}),
                                       (2, {"y_pred": [1, 0], "label_map": {0: "cat", 1: "dog"}})])
def test_plot_image_gallery_matches_keras(keras_ref, agg, n, kwargs):
    low, high = kwargs.get("value_range", (0, 255))
    x = seeded(16).uniform(low, high, (n, 5, 7, 3)).astype("float32")
    _same_gallery(_gallery(agg, cornu.visualization.plot_image_gallery, x, **kwargs),
                  _gallery(agg, keras_ref.visualization.plot_image_gallery, x, **kwargs))


def test_plot_image_gallery_errors_match_keras(keras_ref, agg, tmp_path):
    x = seeded(17).uniform(0, 255, (2, 5, 7, 3)).astype("float32")
    bad = [dict(images=x, path=str(tmp_path / "a.png"), show=True), dict(images=x, y_true=[0, 1], show=False),
           dict(images=x[0], show=False)]
    for kwargs in bad:
        for lib in (cornu, keras_ref):
            with pytest.raises(ValueError):
                lib.visualization.plot_image_gallery(**kwargs)


@pytest.mark.parametrize("kwargs", [dict(num_classes=4), dict(num_classes=6, alpha=0.3),
                                    dict(num_classes=4, blend=False),
                                    dict(num_classes=4, color_mapping={i: (40 * i, 255 - 9 * i, 7) for i in range(4)}),
                                    dict(num_classes=4, ignore_index=0), dict(num_classes=4, ignore_index=2,
                                                                              blend=False)])
def test_draw_segmentation_masks_matches_keras(keras_ref, kwargs):
    x = seeded(18).uniform(0, 255, (2, 5, 7, 3)).astype("float32")
    m = seeded(19).integers(0, 4, (2, 5, 7, 1))  # Keras 3.15 needs the (batch, h, w, 1) mask shape
    ours = cornu.visualization.draw_segmentation_masks(x, m, **kwargs)
    theirs = np.asarray(keras_ref.visualization.draw_segmentation_masks(x, m, **kwargs))
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.asarray(ours, dtype="float64"), np.asarray(theirs, dtype="float64"))
    with pytest.raises(TypeError):
        keras_ref.visualization.draw_segmentation_masks(x, m.astype("float32"), num_classes=4)
    with pytest.raises(TypeError):
        cornu.visualization.draw_segmentation_masks(x, m.astype("float32"), num_classes=4)


@pytest.mark.parametrize("kwargs", [dict(), dict(y_true="m"), dict(y_true="m", y_pred="m", alpha=0.4)])
def test_plot_segmentation_mask_gallery_matches_keras(keras_ref, agg, kwargs):
    x = seeded(20).uniform(0, 255, (3, 5, 7, 3)).astype("float32")
    m = seeded(21).integers(0, 3, (3, 5, 7, 1))
    kwargs = {k: (m if v == "m" else v) for k, v in kwargs.items()}
    _same_gallery(_gallery(agg, cornu.visualization.plot_segmentation_mask_gallery, x, num_classes=3, **kwargs),
                  _gallery(agg, keras_ref.visualization.plot_segmentation_mask_gallery, x, num_classes=3, **kwargs))


def test_draw_bounding_boxes_keras_needs_opencv(keras_ref):
    """Keras draws boxes with OpenCV; without it Keras raises ImportError while cornu (Pillow) draws."""
    try:
        import cv2  # noqa: F401
        pytest.skip("OpenCV is installed: Keras's draw_bounding_boxes runs, pixels differ by renderer")
    except ImportError:
        pass
    x = np.zeros((1, 10, 10, 3), "float32")
    boxes = {"boxes": np.array([[[1, 1, 8, 8]]], "float32"), "labels": np.array([[0]])}
    with pytest.raises(ImportError):
        keras_ref.visualization.draw_bounding_boxes(x, boxes, "xyxy")
    assert (cornu.visualization.draw_bounding_boxes(x, boxes, "xyxy")[0, 1, 1:9] == 128).all()
    import inspect

    for name in ("draw_bounding_boxes", "plot_bounding_box_gallery", "plot_image_gallery",
                 "draw_segmentation_masks", "plot_segmentation_mask_gallery"):
        ours = inspect.signature(getattr(cornu.visualization, name)).parameters
        theirs = inspect.signature(getattr(keras_ref.visualization, name)).parameters
        assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]


@pytest.mark.parametrize("kwargs", [dict(legend=True, value_range=(0, 1)), dict(rows=1, value_range=(0, 1))])
def test_plot_bounding_box_gallery_without_boxes_matches_keras(keras_ref, agg, kwargs):
    """With no boxes to draw Keras needs no OpenCV: the gallery, its pixels and its legend must match."""
    x = seeded(22).uniform(0, 1, (3, 5, 7, 3)).astype("float32")
    ours = _gallery(agg, cornu.visualization.plot_bounding_box_gallery, x, "xyxy", **kwargs)
    theirs = _gallery(agg, keras_ref.visualization.plot_bounding_box_gallery, x, "xyxy", **kwargs)
    _same_gallery(ours, theirs)
    if kwargs.get("legend"):
        colors = []
        for lib in (cornu, keras_ref):
            lib.visualization.plot_bounding_box_gallery(x, "xyxy", show=False, **kwargs)
            colors.append([p.get_facecolor() for p in agg.gcf().legends[0].get_patches()])
            agg.close("all")
        assert colors[0] == colors[1]
