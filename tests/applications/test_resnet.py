"""ResNet50/101/152: the architecture's shapes and parameter counts, weights round trips, bad weights files."""
import numpy as np
import pytest

import cornu
from cornu.applications import resnet
from tests.helpers import assert_close, random_array


def _bottleneck_params(c_in: int, filters: int, shortcut: bool) -> int:
    conv = lambda k, a, b: k * k * a * b + b  # noqa: E731
    bn = lambda c: 4 * c  # noqa: E731
    n = conv(1, c_in, filters) + bn(filters) + conv(3, filters, filters) + bn(filters)
    n += conv(1, filters, 4 * filters) + bn(4 * filters)
    return n + (conv(1, c_in, 4 * filters) + bn(4 * filters) if shortcut else 0)


def test_resnet50_parameter_count_from_formula():
    total = 7 * 7 * 3 * 64 + 64 + 4 * 64
    c_in = 64
    for filters, blocks in [(64, 3), (128, 4), (256, 6), (512, 3)]:
        total += _bottleneck_params(c_in, filters, True)
        total += (blocks - 1) * _bottleneck_params(4 * filters, filters, False)
        c_in = 4 * filters
    total += 2048 * 1000 + 1000
    assert resnet.ResNet50(weights=None).count_params() == total


def test_feature_map_shapes_and_pooling():
    x = random_array((2, 64, 64, 3), low=0.0, high=255.0)
    features = resnet.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3))
    assert features.output_shape == (None, 2, 2, 2048)
    pooled = resnet.ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert pooled.output_shape == (None, 2048)
    top = resnet.ResNet50(weights=None, input_shape=(64, 64, 3), classes=7)
    probs = top.predict(x, verbose=0)
    assert probs.shape == (2, 7)
    assert_close(probs.sum(axis=1), np.ones(2), rtol=1e-5)


def test_input_tensor_is_used_and_its_sources_become_inputs():
    inputs = cornu.Input((40, 40, 3))
    scaled = cornu.layers.Rescaling(0.5, name="halve")(inputs)
    model = resnet.ResNet50(weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is inputs
    assert model.layers[1].name == "halve"


def test_weights_round_trip_through_path(tmp_path):
    source = resnet.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    x = random_array((1, 32, 32, 3), low=0.0, high=255.0)
    path = str(tmp_path / "r.weights.h5")
    source.save_weights(path)
    loaded = resnet.ResNet50(weights=path, include_top=False, input_shape=(32, 32, 3))
    assert_close(loaded.predict(x, verbose=0), source.predict(x, verbose=0))


def test_weights_of_another_architecture_name_the_first_differing_layer(tmp_path):
    path = str(tmp_path / "r50.weights.h5")
    resnet.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3)).save_weights(path)
    with pytest.raises(ValueError, match="conv4_block7"):
        resnet.ResNet101(weights=path, include_top=False, input_shape=(32, 32, 3))


def test_bad_arguments():
    with pytest.raises(ValueError, match="classes=10"):
        resnet.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        resnet.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="weights=nope"):
        resnet.ResNet50(weights="nope")
    with pytest.raises(ValueError, match="classifier_activation"):
        resnet.ResNet50(weights="imagenet", classifier_activation="relu")


def test_resnet_v2_preactivation_layout():
    from cornu import layers
    from cornu.applications import resnet_v2

    model = resnet_v2.ResNet50V2(weights=None, include_top=False, input_shape=(64, 64, 3))
    names = [l.name for l in model.layers]
    assert "conv1_bn" not in names and names[-2:] == ["post_bn", "post_relu"]
    pools = [l for l in model.layers if isinstance(l, layers.MaxPooling2D) and l.name != "pool1_pool"]
    assert len(pools) == 3 and all(p.pool_size == (1, 1) and p.strides == (2, 2) for p in pools)
    assert model.output_shape == (None, 2, 2, 2048)
    x = random_array((1, 4, 4, 3), low=0.0, high=255.0)
    assert_close(resnet_v2.preprocess_input(x.copy()), x.astype("float64") / 127.5 - 1.0)


def test_legacy_h5_of_another_architecture_names_the_first_differing_layer(tmp_path):
    import h5py

    from cornu.saving import legacy_h5

    path = str(tmp_path / "r50.h5")
    with h5py.File(path, "w") as f:
        legacy_h5.save_weights_to_hdf5_group(f, resnet.ResNet50(weights=None, include_top=False,
                                                                 input_shape=(32, 32, 3)))
    with pytest.raises(ValueError, match="conv4_block7_1_conv"):
        resnet.ResNet101(weights=path, include_top=False, input_shape=(32, 32, 3))
    loaded = resnet.ResNet50(weights=path, include_top=False, input_shape=(32, 32, 3))
    assert loaded.get_layer("conv1_conv").kernel.shape == (7, 7, 3, 64)
