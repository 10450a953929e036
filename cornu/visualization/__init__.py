"""``keras.visualization``: draw boxes and masks onto image batches, and plot image galleries (matplotlib,
imported only when a plot is made)."""
from cornu.visualization.draw_bounding_boxes import draw_bounding_boxes
from cornu.visualization.draw_segmentation_masks import draw_segmentation_masks
from cornu.visualization.plot_bounding_box_gallery import plot_bounding_box_gallery
from cornu.visualization.plot_image_gallery import plot_image_gallery
from cornu.visualization.plot_segmentation_mask_gallery import plot_segmentation_mask_gallery

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks", "plot_bounding_box_gallery", "plot_image_gallery",
           "plot_segmentation_mask_gallery"]
