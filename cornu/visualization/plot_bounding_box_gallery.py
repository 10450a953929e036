"""``plot_bounding_box_gallery``: a gallery of images with true and predicted boxes drawn in two colors."""
from __future__ import annotations

from typing import Any

from cornu.visualization._arrays import channels_last_batch, scale_to_uint8_range
from cornu.visualization.draw_bounding_boxes import draw_bounding_boxes
from cornu.visualization.plot_image_gallery import plot_image_gallery


def plot_bounding_box_gallery(images: Any, bounding_box_format: str, y_true: dict | None = None,
                              y_pred: dict | None = None, value_range: tuple = (0, 255),
                              true_color: tuple = (0, 188, 212), pred_color: tuple = (255, 235, 59),
                              line_thickness: int = 2, font_scale: float = 1.0, text_thickness: int | None = None,
                              class_mapping: dict | None = None, ground_truth_mapping: dict | None = None,
                              prediction_mapping: dict | None = None, legend: bool = False,
                              legend_handles: list | None = None, rows: int | None = None, cols: int | None = None,
                              data_format: str | None = None, **kwargs) -> None:
    """Draw ``y_true`` (``true_color``) then ``y_pred`` (``pred_color``) boxes and plot the result with
    ``plot_image_gallery`` (``kwargs`` go there); ``legend`` adds a "Ground Truth"/"Prediction" legend."""
    if legend and legend_handles is not None:
        raise ValueError("Only pass `legend` OR `legend_handles` to `plot_bounding_box_gallery()`.")
    images = channels_last_batch(images, data_format, "plot_bounding_box_gallery")
    images = scale_to_uint8_range(images, value_range).clip(0, 255).astype("uint8")
    text_thickness = line_thickness if text_thickness is None else text_thickness
    for boxes, color, mapping in ((y_true, true_color, ground_truth_mapping),
                                  (y_pred, pred_color, prediction_mapping)):
        if boxes is not None:
            images = draw_bounding_boxes(images, boxes, bounding_box_format, class_mapping=mapping or class_mapping,
                                         color=color, line_thickness=line_thickness, text_thickness=text_thickness,
                                         font_scale=font_scale, data_format="channels_last")
    if legend:
        from matplotlib import patches

        legend_handles = [patches.Patch(color=[c / 255 for c in true_color], label="Ground Truth"),
                          patches.Patch(color=[c / 255 for c in pred_color], label="Prediction")]
    return plot_image_gallery(images, value_range=(0, 255), legend_handles=legend_handles, rows=rows, cols=cols,
                              data_format="channels_last", **kwargs)
