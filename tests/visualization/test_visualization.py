"""keras.visualization on the Agg backend: gallery structure, pixel data, and drawn boxes/masks."""
import numpy as np
import pytest
import torch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cornu import visualization as vis  # noqa: E402
from tests.helpers import seeded  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


def images(n=5, h=4, w=6, c=3, seed=0, high=255.0):
    return seeded(seed).uniform(0, high, (n, h, w, c)).astype("float32")


def shown(fig):
    return [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]


@pytest.mark.parametrize("n, rows, cols", [(1, 1, 1), (2, 2, 1), (4, 2, 2), (5, 3, 1), (7, 3, 2), (10, 4, 2)])
def test_gallery_default_grid(n, rows, cols):
    vis.plot_image_gallery(images(n), show=False)
    fig = plt.gcf()
    assert len(fig.axes) == rows * cols
    np.testing.assert_allclose(fig.get_size_inches(), [cols * 2, rows * 2])
    assert all(not ax.axison for ax in fig.axes)


def test_gallery_pixels_titles_and_value_range():
    x = images(6, high=1.0)
    vis.plot_image_gallery(x, value_range=(0, 1), y_true=np.array([0, 1, 0, 1, 1, 0]),
                           y_pred=np.array([1, 1, 0, 0, 1, 0]), label_map={0: "a", 1: "b"}, rows=2, cols=3,
                           show=False, scale=3)
    fig = plt.gcf()
    np.testing.assert_allclose(fig.get_size_inches(), [9, 6])
    assert [ax.get_title() for ax in fig.axes][:2] == ["Label: a  Pred: b", "Label: b  Pred: b"]
    for got, want in zip(shown(fig), x):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, (want.astype("float64") * 255).astype("uint8"))


def test_gallery_rows_cols_gray_channels_first_torch():
    vis.plot_image_gallery(images(5), rows=2, show=False)
    assert len(plt.gcf().axes) == 4
    plt.close("all")
    vis.plot_image_gallery(images(5), cols=2, show=False)  # 3 x 2 grid, the last cell left empty
    assert len(plt.gcf().axes) == 6 and len(shown(plt.gcf())) == 5
    plt.close("all")
    g = images(2, c=1)
    vis.plot_image_gallery(torch.tensor(np.transpose(g, (0, 3, 1, 2))), data_format="channels_first", show=False)
    np.testing.assert_array_equal(shown(plt.gcf())[0], g[0, ..., 0].astype("uint8"))


def test_gallery_saves_and_errors(tmp_path):
    path = tmp_path / "g.png"
    vis.plot_image_gallery(images(2), path=str(path))
    assert path.exists() and plt.get_fignums() == []
    with pytest.raises(ValueError, match="path"):
        vis.plot_image_gallery(images(2), path=str(path), show=True)
    with pytest.raises(ValueError, match="label_map"):
        vis.plot_image_gallery(images(2), y_true=np.zeros(2), show=False)
    with pytest.raises(ValueError, match="4D"):
        vis.plot_image_gallery(images(2)[0], show=False)


def test_draw_segmentation_masks_formula():
    x = images(2, h=3, w=4)
    m = seeded(1).integers(0, 4, (2, 3, 4))
    palette = (np.arange(4)[:, None] * np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])) % 255
    out = vis.draw_segmentation_masks(x, m, num_classes=4, alpha=0.25)
    np.testing.assert_array_equal(out, (x * 0.75 + palette[m].astype("float32") * 0.25).astype("uint8"))
    # ignore_index keeps the image's own pixels when blending; the unblended layer paints every class (as Keras)
    kept = vis.draw_segmentation_masks(x, m[..., None], num_classes=4, alpha=0.25, ignore_index=2)
    np.testing.assert_array_equal(kept, np.where((m == 2)[..., None], x, x * 0.75 + palette[m] * 0.25)
                                  .astype("uint8"))
    flat = vis.draw_segmentation_masks(x, m[..., None], num_classes=4, blend=False, ignore_index=2)
    np.testing.assert_array_equal(flat, palette[m])
    mapped = vis.draw_segmentation_masks(x, m, color_mapping={i: (i, 2 * i, 3 * i) for i in range(4)}, blend=False)
    np.testing.assert_array_equal(mapped, np.stack([m, 2 * m, 3 * m], -1))
    with pytest.raises(TypeError):
        vis.draw_segmentation_masks(x, m.astype("float32"))
    with pytest.raises(ValueError):
        vis.draw_segmentation_masks(x[0], m)


def test_draw_bounding_boxes_pixels():
    x = np.zeros((2, 20, 30, 3), "float32")
    boxes = {"boxes": np.array([[[2, 3, 12, 15], [0, 0, 5, 5]], [[5, 5, 25, 18], [1, 1, 2, 2]]], "float32"),
             "labels": np.array([[1, -1], [0, 2]])}
    out = vis.draw_bounding_boxes(x, boxes, "xyxy", color=(255, 0, 0), line_thickness=1)
    assert out.shape == x.shape and out.dtype == np.uint8
    red = (out == [255, 0, 0]).all(-1)
    # a 1-pixel outline: every pixel of the rectangle's border is red, its interior untouched
    expect = np.zeros((20, 30), bool)
    expect[3, 2:13] = expect[15, 2:13] = expect[3:16, 2] = expect[3:16, 12] = True
    np.testing.assert_array_equal(red[0], expect)
    assert red[1, 5, 5:26].all() and not red[1, 10, 10]
    rel = {"boxes": boxes["boxes"] / np.array([30, 20, 30, 20], "float32"), "labels": boxes["labels"]}
    np.testing.assert_array_equal(vis.draw_bounding_boxes(x, rel, "rel_xyxy", color=(255, 0, 0), line_thickness=1),
                                  out)
    thick = vis.draw_bounding_boxes(x, boxes, "xyxy", color=(9, 9, 9), line_thickness=3)
    assert (thick[0, 3:6, 2:13] == 9).all() and (thick[0, 7, 6] == 0).all()
    captioned = vis.draw_bounding_boxes(x, boxes, "xyxy", class_mapping={0: "cat", 1: "dog", 2: "emu"},
                                        line_thickness=1)
    assert (captioned[0, :3] != 0).any() and (captioned[0, 4:15, 3:12] == 0).all()
    cf = vis.draw_bounding_boxes(np.transpose(x, (0, 3, 1, 2)), boxes, "xyxy", color=(255, 0, 0), line_thickness=1,
                                 data_format="channels_first")
    np.testing.assert_array_equal(np.transpose(cf, (0, 2, 3, 1)), out)
    with pytest.raises(TypeError):
        vis.draw_bounding_boxes(x, [1, 2], "xyxy")
    with pytest.raises(ValueError):
        vis.draw_bounding_boxes(x, {"boxes": boxes["boxes"]}, "xyxy")


def test_box_and_mask_galleries():
    x = np.zeros((3, 20, 30, 3), "float32")
    y = {"boxes": np.tile(np.array([[[2, 3, 12, 15]]], "float32"), (3, 1, 1)), "labels": np.ones((3, 1), "int64")}
    vis.plot_bounding_box_gallery(x, "xyxy", y_true=y, y_pred=y, legend=True, show=False, line_thickness=1)
    fig = plt.gcf()
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].texts] == ["Ground Truth", "Prediction"]
    # the predicted boxes are drawn last, over the true ones
    assert (shown(fig)[0][3, 5] == [255, 235, 59]).all()
    with pytest.raises(ValueError):
        vis.plot_bounding_box_gallery(x, "xyxy", legend=True, legend_handles=[], show=False)
    plt.close("all")
    m = seeded(2).integers(0, 3, (3, 20, 30, 1))
    xi = images(3, 20, 30)
    vis.plot_segmentation_mask_gallery(xi, num_classes=3, y_true=m, y_pred=m, show=False)
    fig = plt.gcf()
    assert len(fig.axes) == 9
    arrays = shown(fig)
    np.testing.assert_array_equal(arrays[3], xi[1].astype("uint8"))
    np.testing.assert_array_equal(arrays[4], vis.draw_segmentation_masks(xi.astype("uint8"), m, num_classes=3)[1])
