"""cornu: the Keras 3 API, implemented natively on PyTorch.

``import cornu as keras`` and Keras code runs on torch kernels, on CPU or GPU.
"""
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

version = lambda: __version__  # noqa: E731
