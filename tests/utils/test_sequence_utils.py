"""pad_sequences: padding/truncating sides, maxlen, dtype and value checks."""
import numpy as np
import pytest

from cornu.utils.sequence_utils import pad_sequences

SEQS = [[1, 2, 3, 4], [5], [], [6, 7]]


def test_pre_padding_default_maxlen():
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32 and out.shape == (4, 4)
    np.testing.assert_array_equal(out, [[1, 2, 3, 4], [0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 6, 7]])


def test_post_padding_and_value():
    out = pad_sequences(SEQS, padding="post", value=-1)
    np.testing.assert_array_equal(out, [[1, 2, 3, 4], [5, -1, -1, -1], [-1] * 4, [6, 7, -1, -1]])


@pytest.mark.parametrize("truncating, first_row", [("pre", [3, 4]), ("post", [1, 2])])
def test_truncating(truncating, first_row):
    out = pad_sequences(SEQS, maxlen=2, truncating=truncating)
    np.testing.assert_array_equal(out[0], first_row)
    np.testing.assert_array_equal(out[1], [0, 5])


def test_float_dtype_and_vector_timesteps():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    out = pad_sequences(seqs, dtype="float32", padding="post", value=0.5)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1, 1], [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(out[1, 0], [2.0, 2.0, 2.0])


def test_string_sequences_need_object_or_str_dtype():
    with pytest.raises(ValueError, match="dtype"):
        pad_sequences([["a"]], value="pad")
    out = pad_sequences([["a", "b"], ["c"]], dtype=object, value="pad")
    assert out.tolist() == [["a", "b"], ["pad", "c"]]


@pytest.mark.parametrize("kwargs, name", [({"padding": "mid"}, "padding"), ({"truncating": "x"}, "truncating"),
                                          ({"maxlen": -1}, "maxlen")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        pad_sequences(SEQS, **kwargs)


def test_non_iterable_sequence():
    with pytest.raises(ValueError, match="iterable"):
        pad_sequences([[1], 5])


def test_maxlen_type_zero_and_empty_input_errors():
    with pytest.raises(TypeError, match="maxlen"):
        pad_sequences(SEQS, maxlen=2.0)
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1, 2]], maxlen=0)
    with pytest.raises(ValueError, match="empty"):
        pad_sequences([])
    assert pad_sequences([[], []], maxlen=0).shape == (2, 0)
    assert pad_sequences([], maxlen=3).shape == (0, 3)
