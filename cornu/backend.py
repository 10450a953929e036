"""``keras.backend``: session and global-setting helpers kept from Keras's backend module."""
from __future__ import annotations

import gc

from cornu.config import (backend, epsilon, floatx, image_data_format, set_epsilon, set_floatx,
                          set_image_data_format)
from cornu.config import standardize_dtype
from cornu.utils import naming
from cornu.utils.dtype_utils import is_float_dtype, is_int_dtype, result_type
from cornu.utils.keras_tensor_utils import is_keras_tensor
from cornu.utils.naming import get_uid


def clear_session(free_memory: bool = True) -> None:
    """Reset the automatic layer names (``dense``, ``dense_1``...), the global dtype policy, and free cached
    GPU memory."""
    from cornu.dtype_policies.dtype_policy import reset_dtype_policy

    naming.reset_names()
    reset_dtype_policy()
    if free_memory:
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format", "is_float_dtype",
           "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon", "set_floatx", "set_image_data_format",
           "standardize_dtype"]
