"""``keras.export``: inference artifacts from models (ONNX files, ``torch.export`` programs)."""
from cornu.export.export_archive import ExportArchive
from cornu.export.export_utils import SUPPORTED_FORMATS, export_model

__all__ = ["ExportArchive", "SUPPORTED_FORMATS", "export_model"]
