"""``keras.utils.bounding_boxes``: box format conversion, geometric box transforms and IoU."""
from cornu.utils.bounding_boxes.converters import (affine_transform, clip_to_image_size, convert_format, crop,
                                                   decode_deltas_to_boxes, encode_box_to_deltas, pad)
from cornu.utils.bounding_boxes.iou import compute_ciou, compute_iou

__all__ = ["affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou", "convert_format", "crop",
           "decode_deltas_to_boxes", "encode_box_to_deltas", "pad"]
