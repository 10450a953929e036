"""``Model.summary``: what reaches ``print_fn`` and stdout."""
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
