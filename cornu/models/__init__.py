"""``keras.models``: Model, Sequential and model-level helpers."""
from cornu.models.functional import Functional
from cornu.models.model import Model
from cornu.models.sequential import Sequential
from cornu.saving import load_model, save_model
from cornu.models.cloning import clone_model, model_from_json
