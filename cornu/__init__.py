"""cornu: the Keras 3 API, implemented natively on PyTorch.

``import cornu as keras`` and Keras code runs on torch kernels, on CPU or GPU.
"""
import gc as _gc

# Importing allocates only long-lived objects; a garbage collection over torch's heap triggered halfway
# through would cost ~0.1 s (more than all of cornu's own import), so collection waits until the end.
_gc_enabled = _gc.isenabled()
_gc.disable()
try:
    from cornu import (activations, backend, callbacks, config, constraints, datasets, dtype_policies, initializers,
                       layers, losses, metrics, mixed_precision, models, ops, optimizers, random, regularizers, saving,
                       utils)
    from cornu import applications
    from cornu import wrappers
    from cornu import visualization
    from cornu import distribution
    from cornu import preprocessing
    from cornu.layers import Input, InputSpec, Layer
    from cornu.models import Model, Sequential
    from cornu.symbolic import KerasTensor
    from cornu.variables import Variable
    from cornu.version import __version__
    from cornu import export, tree
    from cornu.dtype_policies import DTypePolicy, FloatDTypePolicy
    from cornu.initializers import Initializer
    from cornu.losses import Loss
    from cornu.metrics import Metric
    from cornu.ops.operation import Function, Operation
    from cornu.optimizers import Optimizer
    from cornu.regularizers import Regularizer
    from cornu.remat import RematScope, remat
    from cornu.scopes import StatelessScope, SymbolicScope, device, name_scope
finally:
    if _gc_enabled:
        _gc.enable()

version = lambda: __version__  # noqa: E731
