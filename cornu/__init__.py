"""cornu: the Keras 3 API, implemented natively on PyTorch.

``import cornu as keras`` and Keras code runs on torch kernels, on CPU or GPU.
"""
from cornu import (activations, backend, callbacks, config, constraints, datasets, dtype_policies, initializers,
                   layers, losses, metrics, mixed_precision, models, ops, optimizers, random, regularizers, saving,
                   utils)
from cornu import applications
from cornu import preprocessing
from cornu import distribution
from cornu.layers import Input, InputSpec, Layer
from cornu.models import Model, Sequential
from cornu.symbolic import KerasTensor
from cornu.variables import Variable
from cornu.version import __version__

version = lambda: __version__  # noqa: E731
