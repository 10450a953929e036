"""keras.applications against Keras 3.15: same layers, order, configs and parameter counts; Keras's weights
files give Keras's predictions; preprocess_input and decode_predictions agree."""
import json
import re

import numpy as np
import pytest

import cornu
from tests.helpers import assert_close, keras_oracle_module, random_array, seeded

keras = keras_oracle_module()

slow = pytest.mark.slow
AUTO_NAMED = (r"^(global_\w+|rescaling|normalization|zero_padding2d|add|layer_normalization|max_pooling2d|re_lu|"
              r"activation|multiply|dropout|flatten|conv2d|batch_normalization|average_pooling2d|concatenate|"
              r"custom_scale_layer)(_\d+)?$")

# (function name, constructor arguments); the slow ones build big graphs in Keras.
ARCHITECTURES = [
    pytest.param("ResNet50", dict(input_shape=(32, 32, 3)), id="ResNet50"),
    pytest.param("ResNet101", dict(input_shape=(32, 32, 3)), id="ResNet101", marks=slow),
    pytest.param("ResNet152", dict(include_top=False, input_shape=(32, 32, 3)), id="ResNet152", marks=slow),
    pytest.param("ResNet50", dict(include_top=False, pooling="max"), id="ResNet50-notop-max", marks=slow),
    pytest.param("VGG16", dict(include_top=False, input_shape=(32, 32, 3)), id="VGG16-notop"),
    pytest.param("VGG16", dict(input_shape=(32, 32, 3)), id="VGG16", marks=slow),
    pytest.param("VGG19", dict(input_shape=(32, 32, 3)), id="VGG19", marks=slow),
    pytest.param("MobileNetV2", dict(input_shape=(32, 32, 3)), id="MobileNetV2"),
    pytest.param("MobileNetV2", dict(input_shape=(33, 33, 3), alpha=1.4, include_top=False, pooling="avg"),
                 id="MobileNetV2-1.4-odd", marks=slow),
    pytest.param("MobileNetV2", dict(input_shape=(96, 96, 3), alpha=0.35), id="MobileNetV2-0.35", marks=slow),
    pytest.param("EfficientNetB0", dict(input_shape=(32, 32, 3)), id="EfficientNetB0"),
] + [
    pytest.param(f"EfficientNetB{i}", dict(include_top=False, input_shape=(32, 32, 3)), id=f"EfficientNetB{i}",
                 marks=slow) for i in range(1, 8)
] + [
    pytest.param("DenseNet121", dict(input_shape=(32, 32, 3)), id="DenseNet121"),
    pytest.param("DenseNet169", dict(include_top=False, input_shape=(32, 32, 3)), id="DenseNet169", marks=slow),
    pytest.param("DenseNet201", dict(include_top=False, input_shape=(32, 32, 3)), id="DenseNet201", marks=slow),
    pytest.param("ConvNeXtTiny", dict(input_shape=(32, 32, 3)), id="ConvNeXtTiny"),
    pytest.param("ConvNeXtTiny", dict(include_top=False, include_preprocessing=False, pooling="max",
                                      input_shape=(32, 32, 3)), id="ConvNeXtTiny-notop", marks=slow),
] + [
    pytest.param(f"ConvNeXt{size}", dict(include_top=False, input_shape=(32, 32, 3)), id=f"ConvNeXt{size}",
                 marks=slow) for size in ("Small", "Base", "Large", "XLarge")
] + [
    pytest.param("MobileNet", dict(input_shape=(32, 32, 3)), id="MobileNet", marks=slow),
    pytest.param("MobileNet", dict(input_shape=(40, 40, 3), alpha=0.5, depth_multiplier=2, include_top=False,
                                   pooling="avg"), id="MobileNet-0.5-dm2", marks=slow),
    pytest.param("ResNet50V2", dict(input_shape=(32, 32, 3)), id="ResNet50V2", marks=slow),
    pytest.param("ResNet101V2", dict(include_top=False, input_shape=(32, 32, 3)), id="ResNet101V2", marks=slow),
    pytest.param("ResNet152V2", dict(include_top=False, input_shape=(32, 32, 3)), id="ResNet152V2", marks=slow),
    pytest.param("MobileNetV3Small", dict(input_shape=(32, 32, 3)), id="MobileNetV3Small"),
    pytest.param("MobileNetV3Small", dict(input_shape=(32, 32, 3), minimalistic=True, alpha=0.75,
                                          include_top=False, pooling="avg"),
                 id="MobileNetV3Small-minimalistic", marks=slow),
    pytest.param("MobileNetV3Large", dict(input_shape=(32, 32, 3), alpha=1.25), id="MobileNetV3Large", marks=slow),
    pytest.param("Xception", dict(input_shape=(71, 71, 3)), id="Xception", marks=slow),
    pytest.param("InceptionV3", dict(input_shape=(75, 75, 3)), id="InceptionV3", marks=slow),
    pytest.param("InceptionResNetV2", dict(input_shape=(75, 75, 3)), id="InceptionResNetV2", marks=slow),
    pytest.param("EfficientNetV2B0", dict(input_shape=(32, 32, 3)), id="EfficientNetV2B0", marks=slow),
] + [
    pytest.param(f"EfficientNetV2{v}", dict(include_top=False, input_shape=(32, 32, 3)), id=f"EfficientNetV2{v}",
                 marks=slow) for v in ("B1", "B2", "B3", "S", "M", "L")
] + [
    # next families here
]


def _structure(model) -> list:
    """Per layer in model order: class, config (input layers unnamed) and the names of its inputs."""
    rows = []
    for entry in model.get_config()["layers"]:
        config = dict(entry["config"])
        if entry["class_name"] == "InputLayer":
            config.pop("name")
        if entry["class_name"] == "Sequential":  # compared by its layers (cornu leaves dtype/build shape out)
            config = {"name": config["name"], "layers": [(s["class_name"], s["config"]) for s in config["layers"]
                                                         if s["class_name"] != "InputLayer"]}
        parents = []
        for node in entry["inbound_nodes"]:
            for arg in node["args"]:
                for t in arg if isinstance(arg, list) else [arg]:
                    if isinstance(t, dict) and t.get("class_name") == "__keras_tensor__":
                        parents.append(t["config"]["keras_history"][0])
        name = None if entry["class_name"] == "InputLayer" else entry["name"]
        if name and re.match(AUTO_NAMED, name):  # the counter suffix depends on the session
            name = config["name"] = re.sub(r"_\d+$", "", name)
        rows.append((entry["class_name"], name, json.loads(json.dumps(config)), len(parents)))
    return rows


def _var_path(w) -> str:
    layer, var = w.path.split("/")[-2:]
    layer = re.sub(r"_[0-9]+$", "", layer) if re.match(AUTO_NAMED, layer) else layer
    return f"{layer}/{re.sub(r'^variable_[0-9]+$', 'variable', var)}"


def _build_both(name: str, kwargs: dict):
    ours = getattr(cornu.applications, name)(weights=None, **kwargs)
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("name,kwargs", ARCHITECTURES)
def test_same_architecture_as_keras(name, kwargs):
    ours, theirs = _build_both(name, kwargs)
    assert ours.name == theirs.name
    assert ours.count_params() == theirs.count_params()
    assert tuple(ours.output_shape) == tuple(theirs.output_shape)
    assert len(ours.layers) == len(theirs.layers)
    # (Keras prefixes the variables of a nested Sequential with its name; cornu's paths start at the layer.)
    # An unnamed variable is "variable_<n>" in Keras, n counting across the session.
    assert [_var_path(w) for w in ours.weights] == [_var_path(w) for w in theirs.weights]
    for a, b in zip(_structure(ours), _structure(theirs)):
        assert a == b


def _randomize(model, seed: int = 0) -> None:
    """Random weights of sane scale: fan-in scaled kernels, positive variances and gammas near 1."""
    rng = seeded(seed)
    values = []
    for w in model.weights:
        shape = tuple(w.shape)
        if w.path.endswith(("moving_variance", "gamma")):
            values.append(rng.uniform(0.5, 1.5, shape))
        elif len(shape) > 1:
            values.append(rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1])))
        else:
            values.append(0.1 * rng.standard_normal(shape))
    model.set_weights([v.astype("float32") for v in values])


WEIGHTED = [
    pytest.param("ResNet50", dict(input_shape=(32, 32, 3), classes=10), id="ResNet50"),
    pytest.param("VGG16", dict(include_top=False, input_shape=(32, 32, 3), pooling="avg"), id="VGG16"),
    pytest.param("MobileNetV2", dict(input_shape=(32, 32, 3), classes=10), id="MobileNetV2"),
    pytest.param("EfficientNetB0", dict(input_shape=(32, 32, 3), classes=10), id="EfficientNetB0"),
    pytest.param("DenseNet121", dict(input_shape=(32, 32, 3), classes=10), id="DenseNet121"),
    pytest.param("ConvNeXtTiny", dict(input_shape=(32, 32, 3), classes=10), id="ConvNeXtTiny"),
    pytest.param("MobileNetV3Small", dict(input_shape=(32, 32, 3), classes=10), id="MobileNetV3Small", marks=slow),
]


@pytest.mark.parametrize("name,kwargs", WEIGHTED)
def test_keras_weights_file_gives_keras_predictions(name, kwargs, tmp_path):
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    _randomize(theirs)
    path = str(tmp_path / "model.weights.h5")
    theirs.save_weights(path)
    x = random_array((2,) + tuple(kwargs["input_shape"]), low=0.0, high=255.0)
    expected = theirs.predict(x, verbose=0)
    ours = getattr(cornu.applications, name)(weights=None, **kwargs)
    ours.load_weights(path)
    assert_close(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)
    from_path = getattr(cornu.applications, name)(weights=path, **kwargs)
    assert_close(from_path.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)
    # Keras's published files are in the legacy HDF5 layout (layer_names / weight_names, by order).
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    legacy = str(tmp_path / "model.h5")
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    from_legacy = getattr(cornu.applications, name)(weights=legacy, **kwargs)
    assert_close(from_legacy.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_matches_keras(mode, data_format):
    from keras.src.applications import imagenet_utils as keras_utils

    shape = (2, 4, 5, 3) if data_format == "channels_last" else (2, 3, 4, 5)
    x = random_array(shape, low=0.0, high=255.0)
    expected = keras_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    got = cornu.applications.imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    assert_close(got, expected, rtol=1e-6)
    expected_uint8 = keras_utils.preprocess_input(x.astype("uint8"), data_format=data_format, mode=mode)
    got_uint8 = cornu.applications.imagenet_utils.preprocess_input(x.astype("uint8"), data_format=data_format,
                                                                   mode=mode)
    assert got_uint8.dtype == expected_uint8.dtype
    assert_close(got_uint8, expected_uint8, rtol=1e-6)


PREPROCESSING_MODULES = ["resnet", "vgg16", "vgg19", "mobilenet_v2", "efficientnet", "densenet", "convnext",
                         "mobilenet", "resnet_v2", "mobilenet_v3", "xception", "inception_v3",
                         "inception_resnet_v2", "efficientnet_v2"]


@pytest.mark.parametrize("module", PREPROCESSING_MODULES)
def test_family_preprocess_input_matches_keras(module):
    x = random_array((2, 8, 8, 3), low=0.0, high=255.0)
    expected = getattr(keras.applications, module).preprocess_input(x.copy())
    assert_close(getattr(cornu.applications, module).preprocess_input(x.copy()), expected, rtol=1e-6)


def test_decode_predictions_matches_keras(home, monkeypatch):
    import keras.src.applications.imagenet_utils as keras_utils

    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (home / "models").mkdir(parents=True)
    (home / "models" / "imagenet_class_index.json").write_text(json.dumps(index))
    monkeypatch.setattr(keras_utils, "CLASS_INDEX", index)  # Keras would re-download a file of another hash
    monkeypatch.setattr(cornu.applications.imagenet_utils, "_CLASS_INDEX", None)
    preds = seeded(3).random((3, 1000)).astype("float32")
    assert cornu.applications.imagenet_utils.decode_predictions(preds, top=4) == \
        keras_utils.decode_predictions(preds, top=4)


@pytest.mark.parametrize("kwargs", [
    dict(weights="imagenet", classes=10),
    dict(weights=None, include_top=False, input_shape=(20, 20, 3)),
    dict(weights=None, input_shape=(None, None, 3)),
    dict(weights="imagenet", include_top=False, input_shape=(64, 64, 4)),
    dict(weights="no/such/file.h5"),
])
def test_bad_arguments_raise_like_keras(kwargs):
    with pytest.raises(ValueError) as theirs:
        keras.applications.ResNet50(**kwargs)
    with pytest.raises(ValueError) as ours:
        cornu.applications.ResNet50(**kwargs)
    assert str(ours.value) == str(theirs.value)
