"""``Model.summary``: what reaches ``print_fn`` and stdout."""
import pytest

import cornu as keras


def _model(lib):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="d1"), lib.layers.Dense(2, name="d2")],
                          name="m")


def test_print_fn_gets_the_whole_summary_in_one_call(capsys):
    calls = []
    _model(keras).summary(print_fn=lambda *a, **k: calls.append((a, k)))
    assert len(calls) == 1 and calls[0][1] == {}
    text = calls[0][0][0]
    assert text.startswith('Model: "m"\n') and text.endswith(" Non-trainable params: 0 (0.00 B)\n")
    assert " Total params: 23 (92.00 B)" in text  # (4*3+3) + (3*2+2) float32 weights
    _model(keras).summary()
    assert capsys.readouterr().out == text  # stdout shows the same text


def test_summary_text_matches_keras(keras_ref):
    theirs, mine = [], []
    _model(keras_ref).summary(print_fn=lambda *a, **k: theirs.append((a, k)))
    _model(keras).summary(print_fn=lambda *a, **k: mine.append((a, k)))
    assert mine == theirs


def _functional(lib):
    a, b = lib.Input((4,), name="a"), lib.Input((3,), name="b")
    h = lib.layers.Concatenate(name="cat")([a, b])
    frozen = lib.layers.Dense(3, name="frozen")
    frozen.trainable = False
    out = lib.layers.Dense(2, name="out_dense_layer_with_a_long_name")(frozen(h))
    return lib.Model([a, b], out, name="fm")


def test_long_words_are_cut_and_trainable_column_marks_weightless_layers():
    calls = []
    _functional(keras).summary(print_fn=lambda text: calls.append(text), show_trainable=True)
    table = calls[0]
    assert "out_dense_layer_…" in table and "(Dense)" in table  # a word wider than its column gets an ellipsis
    assert "Trai…" in table  # so does the header
    rows = {line.split("│")[1].strip(): line.split("│")[-2] for line in table.split("\n")
            if line.startswith("│") and line.split("│")[1].strip()}
    assert rows["a (InputLayer)"].strip() == "-" and rows["frozen (Dense)"].strip() == "N"
    assert rows["frozen (Dense)"] == "   N   "  # centred


@pytest.mark.parametrize("show_trainable", [False, True])
@pytest.mark.parametrize("build", [_model, _functional])
def test_default_tables_match_keras(keras_ref, build, show_trainable):
    theirs, mine = [], []
    build(keras_ref).summary(print_fn=lambda text: theirs.append(text), show_trainable=show_trainable)
    build(keras).summary(print_fn=lambda text: mine.append(text), show_trainable=show_trainable)
    assert mine == theirs
