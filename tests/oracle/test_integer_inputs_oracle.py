"""Integer inputs to Dense compute in float, as Keras's matmul promotes them (int32 x float32 -> float32); the
convolutions refuse them in both libraries (torch's kernels take one dtype)."""
import numpy as np
import pytest

import cornu
from tests.helpers import assert_close

CASES = [("Dense", lambda k: k.layers.Dense(3, name="d"), (2, 4))]
REFUSED = [
    ("EinsumDense", lambda k: k.layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c", name="e"), (2, 4)),
    ("Conv2D", lambda k: k.layers.Conv2D(2, 3, name="c"), (1, 5, 5, 2)),
]


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_integer_inputs_as_keras(name, make, shape, dtype, keras_ref):
    x = np.random.RandomState(0).randint(0, 5, shape).astype(dtype)
    ours, theirs = make(cornu), make(keras_ref)
    ours.build(shape)
    theirs.build(shape)
    theirs.set_weights(ours.get_weights())
    got, want = ours(x), theirs(x)
    assert str(got.dtype).removeprefix("torch.") == str(want.dtype).removeprefix("torch.") == "float32"
    assert_close(got.detach().numpy(), want.detach().cpu().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,make,shape", REFUSED, ids=[c[0] for c in REFUSED])
def test_integer_inputs_refused_as_keras(name, make, shape, keras_ref):
    x = np.random.RandomState(0).randint(0, 5, shape).astype("int32")
    errors = []
    for k in (keras_ref, cornu):
        layer = make(k)
        layer.build(shape)
        with pytest.raises(Exception) as info:
            layer(x)
        errors.append(info.type)
    assert all(issubclass(e, RuntimeError) for e in errors), errors


def test_dense_model_fits_integer_features():
    model = cornu.Sequential([cornu.Input((3,)), cornu.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(12, dtype="int64").reshape(4, 3)
    history = model.fit(x, np.ones((4, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    want = x.astype("float64") @ model.get_weights()[0].astype("float64") + model.get_weights()[1]
    assert_close(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
