"""``keras.mixed_precision``: the global dtype policy under its mixed-precision names, and loss scaling.

``set_global_policy("mixed_float16")`` (or ``"mixed_bfloat16"``) makes new
layers keep float32 variables and compute in the 16-bit type; with
``mixed_float16``, ``Model.compile`` wraps the optimizer in a
``LossScaleOptimizer`` so small float16 gradients do not underflow.
"""
from cornu.dtype_policies.dtype_policy import DTypePolicy, dtype_policy, set_dtype_policy
from cornu.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy", "set_dtype_policy",
           "set_global_policy"]
