"""Image preprocessing layers: resizing and cropping, and random augmentations (active only in training)."""
