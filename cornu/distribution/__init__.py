"""``keras.distribution``: Keras's distribution API on ``torch.distributed`` (DDP, DTensor), launched by torchrun."""
from cornu.distribution.distribution_lib import (DataParallel, DeviceMesh, LayoutMap, ModelParallel, TensorLayout,
                                                 distribute_tensor, distribution, get_device_count, initialize,
                                                 list_devices, set_distribution)

__all__ = ["DataParallel", "DeviceMesh", "LayoutMap", "ModelParallel", "TensorLayout", "distribute_tensor",
           "distribution", "get_device_count", "initialize", "list_devices", "set_distribution"]
