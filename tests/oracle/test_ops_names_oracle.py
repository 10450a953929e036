"""Every public ``keras.ops`` / ``keras.ops.numpy`` function name exists in cornu, bar a shrinking known list."""
import inspect

import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

# Names Keras 3.15.1 has and cornu does not yet; remove a name when it lands (the test then keeps it there).
KNOWN_MISSING = {
    # neural-network ops not yet in cornu.ops.nn
    "adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "ctc_loss", "depth_to_space", "fold",
    "layer_normalization", "polar", "psnr", "rms_normalization", "space_to_depth", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "threshold", "unfold",
    # keras.ops.math / einops extras
    "cdist", "rearrange",
}


def _public_functions(module) -> set:
    return {n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
            and not inspect.ismodule(getattr(module, n)) and not inspect.isclass(getattr(module, n))}


def test_known_missing_are_keras_names():
    assert KNOWN_MISSING <= _public_functions(keras_ref.ops) | _public_functions(keras_ref.ops.numpy)


@pytest.mark.parametrize("keras_module,cornu_module", [("ops", "ops"), ("ops.numpy", "ops.numpy")])
def test_every_keras_ops_name_exists(keras_module, cornu_module):
    ref = keras_ref
    ours = cornu
    for part in keras_module.split("."):
        ref = getattr(ref, part)
    for part in cornu_module.split("."):
        ours = getattr(ours, part)
    missing = sorted(n for n in _public_functions(ref) if not hasattr(ours, n))
    assert sorted(set(missing) - KNOWN_MISSING) == [], "Keras names missing from cornu"


def test_known_missing_names_are_really_missing():
    landed = sorted(n for n in KNOWN_MISSING if hasattr(cornu.ops, n))
    assert landed == [], f"implemented now: remove from KNOWN_MISSING: {landed}"
