"""plot_model / model_to_dot: graph nodes, edges and labels (pydot only); clear errors without pydot / dot."""
from __future__ import annotations

import re
import shutil
import sys

import pytest

import cornu as keras
from cornu import layers
from cornu.utils import model_to_dot, plot_model

pydot = pytest.importorskip("pydot")


def _two_input_model(lib):
    a = lib.Input((5,), name="a")
    b = lib.Input((3,), name="b")
    h = lib.layers.Dense(6, activation="relu", name="d1")(a)
    out = lib.layers.Dense(4, name="out")(lib.layers.Concatenate(name="cat")([h, b]))
    return lib.Model([a, b], out, name="two_inputs")


def _summary(dot) -> tuple[dict, set]:
    """``({layer title: label}, {(source title, target title)})`` of a pydot graph, ids replaced by titles."""
    titles = {}
    for node in dot.get_nodes():
        label = node.get("label")
        if label:
            titles[node.get_name()] = (re.search(r"<b>([^<]*)</b>", label).group(1), label)
    labels = {title: label for title, label in titles.values()}
    edges = {(titles[e.get_source()][0], titles[e.get_destination()][0]) for e in dot.get_edges()}
    return labels, edges


def test_functional_graph_nodes_edges_and_labels():
    dot = model_to_dot(_two_input_model(keras), show_shapes=True, show_dtype=True, show_layer_activations=True,
                       show_trainable=True, rankdir="LR", dpi=96)
    labels, edges = _summary(dot)
    assert set(labels) == {"a", "b", "d1", "cat", "out"}
    assert edges == {("a", "d1"), ("d1", "cat"), ("b", "cat"), ("cat", "out")}
    assert "(Dense)" in labels["d1"] and "Activation: <b>relu</b>" in labels["d1"]
    assert "Input shape: <b>(None, 5)</b>" in labels["d1"] and "Output shape: <b>(None, 6)</b>" in labels["d1"]
    assert "Input shape: <b>[(None, 6), (None, 3)]</b>" in labels["cat"]
    assert "Output dtype: <b>float32</b>" in labels["out"] and "Trainable" in labels["out"]
    assert "Activation" not in labels["cat"] and "Trainable" not in labels["a"]
    assert dot.get("rankdir") == "LR" and dot.get("dpi") == 96


def test_options_off_and_non_trainable():
    model = _two_input_model(keras)
    model.get_layer("out").trainable = False
    labels, _ = _summary(model_to_dot(model, show_trainable=True))
    assert "Non-trainable" in labels["out"] and "shape" not in labels["out"] and "Activation" not in labels["d1"]
    dot = model_to_dot(model, show_layer_names=False)
    titles = [re.search(r"<b>([^<]*)</b>", n.get("label")).group(1) for n in dot.get_nodes() if n.get("label")]
    assert sorted(titles) == ["Concatenate", "Dense", "Dense", "InputLayer", "InputLayer"]


def test_sequential_chain_and_expand_nested():
    inner = keras.Sequential([layers.Dense(2, name="i1"), layers.Dense(2, name="i2")], name="inner")
    model = keras.Sequential([keras.Input((5,)), layers.Dense(5, name="pre"), inner], name="outer")
    labels, edges = _summary(model_to_dot(model))
    assert {"pre", "inner"} <= set(labels) and ("pre", "inner") in edges
    dot = model_to_dot(model, expand_nested=True)
    clusters = dot.get_subgraphs()
    assert len(clusters) == 1 and clusters[0].get_name() == "cluster_inner"
    inner_labels, inner_edges = _summary(clusters[0])
    assert {"i1", "i2"} <= set(inner_labels) and ("i1", "i2") in inner_edges
    top = {n.get_name(): re.search(r"<b>([^<]*)</b>", n.get("label")).group(1) for n in dot.get_nodes()
           if n.get("label")}
    inside = {n.get_name(): re.search(r"<b>([^<]*)</b>", n.get("label")).group(1) for n in clusters[0].get_nodes()
              if n.get("label")}
    assert "inner" not in top.values()  # drawn as its cluster instead
    assert [(top[e.get_source()], inside[e.get_destination()]) for e in dot.get_edges()
            if e.get_destination() in inside] == [("pre", next(iter(inside.values())))]


def test_unbuilt_model_raises():
    with pytest.raises(ValueError, match="not yet been built"):
        model_to_dot(keras.Sequential([layers.Dense(2)]))


@pytest.mark.skipif(shutil.which("dot") is not None, reason="graphviz is installed here")
def test_plot_model_without_graphviz_says_what_to_install(tmp_path):
    with pytest.raises(ImportError, match="graphviz"):
        plot_model(_two_input_model(keras), to_file=str(tmp_path / "m.png"))


def test_missing_pydot_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match="pip install pydot"):
        model_to_dot(_two_input_model(keras))
    with pytest.raises(ImportError, match="pydot"):
        plot_model(_two_input_model(keras))


def test_plot_model_writes_the_format_of_the_extension(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(pydot.Dot, "write", lambda self, path, format="raw", **kw: written.append((path, format)))
    model = _two_input_model(keras)
    for name in ("m.png", "m.svg", "m.pdf", "m"):
        assert plot_model(model, to_file=str(tmp_path / name), show_shapes=True) is None
    assert [f for _, f in written] == ["png", "svg", "pdf", "png"]


def test_same_graph_as_keras(keras_ref):
    options = dict(show_shapes=True, show_dtype=True, show_layer_activations=True, show_trainable=True)
    mine = _summary(model_to_dot(_two_input_model(keras), **options))
    theirs = _summary(keras_ref.utils.model_to_dot(_two_input_model(keras_ref), **options))
    assert mine[1] == theirs[1]
    assert set(mine[0]) == set(theirs[0])
    for name in mine[0]:
        cells = lambda label: re.findall(r"(\w[\w ]*): <b>([^<]*)</b>", label)  # noqa: E731
        assert cells(mine[0][name]) == cells(theirs[0][name]), name
    k_dot = keras_ref.utils.model_to_dot(_two_input_model(keras_ref), rankdir="LR", dpi=72)
    c_dot = model_to_dot(_two_input_model(keras), rankdir="LR", dpi=72)
    for key in ("rankdir", "dpi", "splines", "concentrate"):
        assert str(c_dot.get(key)).lower() == str(k_dot.get(key)).lower(), key
    with pytest.raises(ImportError):
        keras_ref.utils.plot_model(_two_input_model(keras_ref)) if shutil.which("dot") is None else None
