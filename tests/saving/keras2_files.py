"""Build legacy HDF5 files in Keras 2 / tf.keras 2.x's layout with h5py (no Keras needed).

A whole-model file holds ``model_config`` (JSON) and optionally ``training_config`` in the root
attributes, ``keras_version`` / ``backend`` attributes, and the weights under
``model_weights/<layer>/<layer>/<weight>:0`` with ``layer_names`` / ``weight_names`` attributes.
"""
from __future__ import annotations

import json

import h5py
import numpy as np

_INIT = {"class_name": "GlorotUniform", "config": {"seed": None}}
_ZEROS = {"class_name": "Zeros", "config": {}}
_ONES = {"class_name": "Ones", "config": {}}


def input_layer(name: str, batch_input_shape: list) -> dict:
    return {"class_name": "InputLayer", "config": {"batch_input_shape": batch_input_shape, "dtype": "float32",
                                                   "sparse": False, "ragged": False, "name": name}}


def dense(name: str, units: int, activation: str = "linear", class_name: str = "Dense", **extra) -> dict:
    config = {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
              "use_bias": True, "kernel_initializer": _INIT, "bias_initializer": _ZEROS, "kernel_regularizer": None,
              "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
              "bias_constraint": None, **extra}
    return {"class_name": class_name, "config": config}


def conv2d(name: str, filters: int, kernel_size: int, class_name: str = "Conv2D", **extra) -> dict:
    config = {"name": name, "trainable": True, "dtype": "float32", "filters": filters,
              "kernel_size": [kernel_size, kernel_size], "strides": [1, 1], "padding": "valid",
              "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
              "use_bias": True, "kernel_initializer": _INIT, "bias_initializer": _ZEROS, "kernel_regularizer": None,
              "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
              "bias_constraint": None, **extra}
    return {"class_name": class_name, "config": config}


def batch_norm(name: str, axis: int) -> dict:
    config = {"name": name, "trainable": True, "dtype": "float32", "axis": [axis], "momentum": 0.99,
              "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": _ZEROS,
              "gamma_initializer": _ONES, "moving_mean_initializer": _ZEROS, "moving_variance_initializer": _ONES,
              "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}
    return {"class_name": "BatchNormalization", "config": config}


def flatten(name: str) -> dict:
    return {"class_name": "Flatten", "config": {"name": name, "trainable": True, "dtype": "float32",
                                                "data_format": "channels_last"}}


def embedding(name: str, input_dim: int, output_dim: int, batch_input_shape: list | None = None) -> dict:
    config = {"name": name, "trainable": True, "dtype": "float32", "input_dim": input_dim, "output_dim": output_dim,
              "embeddings_initializer": {"class_name": "RandomUniform",
                                         "config": {"minval": -0.05, "maxval": 0.05, "seed": None}},
              "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
              "mask_zero": False, "input_length": None}
    if batch_input_shape is not None:
        config["batch_input_shape"] = batch_input_shape
    return {"class_name": "Embedding", "config": config}


def lstm(name: str, units: int, return_sequences: bool = False) -> dict:
    config = {"name": name, "trainable": True, "dtype": "float32", "return_sequences": return_sequences,
              "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
              "time_major": False, "units": units, "activation": "tanh", "recurrent_activation": "sigmoid",
              "use_bias": True, "kernel_initializer": _INIT,
              "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
              "bias_initializer": _ZEROS, "unit_forget_bias": True, "kernel_regularizer": None,
              "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
              "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
              "recurrent_dropout": 0.0, "implementation": 2}
    return {"class_name": "LSTM", "config": config}


def sequential(name: str, layers: list) -> dict:
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}}


def functional(name: str, layers: list, inputs: list, outputs: list, class_name: str = "Functional") -> dict:
    """``layers``: ``(layer config, [inbound layer names])`` pairs (Keras 2's nested-list inbound nodes)."""
    entries = []
    for config, inbound in layers:
        nodes = [[[n, 0, 0, {}] for n in inbound]] if inbound else []
        entries.append({**config, "name": config["config"]["name"], "inbound_nodes": nodes})
    return {"class_name": class_name, "config": {"name": name, "layers": entries,
                                                 "input_layers": [[n, 0, 0] for n in inputs],
                                                 "output_layers": [[n, 0, 0] for n in outputs]}}


def write_weights_group(group: h5py.Group, weights: list, cell: dict | None = None) -> None:
    """``weights``: ``(layer name, [(weight name, array), ...])`` in the model's layer order; ``cell`` maps a layer
    name to the sub-scope its weights sit under (``lstm_cell`` for an LSTM)."""
    cell = cell or {}
    group.attrs["layer_names"] = np.array([n.encode() for n, _ in weights])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.13.1"
    for layer_name, values in weights:
        g = group.create_group(layer_name)
        scope = f"{layer_name}/{cell[layer_name]}" if layer_name in cell else layer_name
        names = [f"{scope}/{w}:0" for w, _ in values]
        g.attrs["weight_names"] = np.array([n.encode() for n in names])
        for name, (_, value) in zip(names, values):
            g.create_dataset(name, data=np.asarray(value))


def write_model(path, config: dict, weights: list, training_config: dict | None = None,
                cell: dict | None = None) -> None:
    """A Keras 2 whole-model ``.h5`` file."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode()
        write_weights_group(f.create_group("model_weights"), weights, cell)


def write_weights(path, weights: list, cell: dict | None = None) -> None:
    """A Keras 2 ``save_weights("w.h5")`` file: the weights group at the root."""
    with h5py.File(path, "w") as f:
        write_weights_group(f, weights, cell)
