"""Control flow on KerasTensors: the same output specs as Keras 3; eager results equal too."""
import numpy as np
import pytest
import torch

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

CASES = {
    "cond": lambda k, x: k.ops.cond(k.KerasTensor((), dtype="bool"), lambda: x * 2, lambda: x + 1),
    "cond_struct": lambda k, x: k.ops.cond(k.KerasTensor((), dtype="bool"), lambda: (x, x[:, :1]),
                                           lambda: (x + 1, x[:, 1:2])),
    "switch": lambda k, x: k.ops.switch(k.KerasTensor((), dtype="int32"), [lambda a: a * 2, lambda a: a + 1], x),
    "while_loop": lambda k, x: k.ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2),
                                                (k.KerasTensor((), dtype="int32"), x)),
    "fori_loop": lambda k, x: k.ops.fori_loop(0, 3, lambda i, v: v * 2, x),
    "scan": lambda k, x: k.ops.scan(lambda c, xi: (c + xi, c * 2), k.KerasTensor((3,)), x),
    "associative_scan": lambda k, x: k.ops.associative_scan(lambda a, b: a + b, x),
    "map": lambda k, x: k.ops.map(lambda v: k.ops.sum(v, axis=-1), x),
    "vectorized_map": lambda k, x: k.ops.vectorized_map(lambda v: v * 2, x),
}


def _specs(out):
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [(tuple(o.shape), o.dtype) for o in outs]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("shape", [(None, 3), (5, 3)])
def test_symbolic_specs_match_keras(name, shape):
    ref = CASES[name](keras_ref, keras_ref.KerasTensor(shape))
    ours = CASES[name](cornu, cornu.KerasTensor(shape))
    assert _specs(ours) == _specs(ref)


def test_cond_branch_mismatch_raises_as_keras():
    for lib in (keras_ref, cornu):
        x = lib.KerasTensor((None, 3))
        with pytest.raises(ValueError):
            lib.ops.cond(lib.KerasTensor((), dtype="bool"), lambda: x * 2, lambda: lib.ops.sum(x))


def test_eager_results_match_keras():
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    for name in ["scan", "associative_scan", "map", "vectorized_map", "fori_loop"]:
        def run(lib):
            t = torch.tensor(x)
            if name == "scan":
                return lib.ops.scan(lambda c, xi: (c + xi, c * 2), torch.zeros(3), t)
            return CASES[name](lib, t)
        ref, ours = run(keras_ref), run(cornu)
        for r, o in zip(ref if isinstance(ref, tuple) else [ref], ours if isinstance(ours, tuple) else [ours]):
            np.testing.assert_allclose(cornu.ops.convert_to_numpy(o), keras_ref.ops.convert_to_numpy(r), rtol=1e-5)
