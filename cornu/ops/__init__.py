"""``keras.ops``: the NumPy-like and neural-network operations, on torch tensors.

Everything public from ``core``, ``numpy``, ``math``, ``linalg``, ``nn`` and ``einops`` is re-exported
here; the submodules stay reachable as ``ops.nn``, ``ops.numpy`` and so on,
as in Keras.
"""
from cornu.ops import core, einops, image, linalg, math, nn, numpy
from cornu.ops.core import *  # noqa: F401,F403
from cornu.ops.core import _getitem  # noqa: F401
from cornu.ops.einops import *  # noqa: F401,F403
from cornu.ops.linalg import *  # noqa: F401,F403
from cornu.ops.math import *  # noqa: F401,F403
from cornu.ops.nn import *  # noqa: F401,F403
from cornu.ops.numpy import *  # noqa: F401,F403

__all__ = sorted(
    set(core.__all__) | set(einops.__all__) | set(linalg.__all__) | set(math.__all__) | set(nn.__all__)
    | set(numpy.__all__)
)
