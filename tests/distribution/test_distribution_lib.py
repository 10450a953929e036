"""``keras.distribution`` objects in one process: devices, meshes, layouts, layout maps, the distributions."""
import numpy as np
import pytest

import cornu as keras
from cornu.distribution import distribution_lib
from cornu.trainers import distributed

dist_api = keras.distribution


def test_devices_without_a_process_group():
    assert dist_api.list_devices("cpu") == ["cpu:0"]
    assert dist_api.get_device_count("cpu") == 1
    with pytest.raises(ValueError, match="tpu"):
        dist_api.list_devices("tpu")


def test_device_mesh_shape_and_errors():
    mesh = dist_api.DeviceMesh((1, 2), ["batch", "model"], devices=["cpu:0", "cpu:1"])
    assert mesh.shape == (1, 2) and mesh.axis_names == ["batch", "model"]
    assert mesh.devices.tolist() == [["cpu:0", "cpu:1"]]
    with pytest.raises(ValueError, match=r"shape=\(1, 2\), axis_names=\['batch'\]"):
        dist_api.DeviceMesh((1, 2), ["batch"], devices=["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match=r"shape=\(3,\); devices.shape=\(2,\)"):
        dist_api.DeviceMesh((3,), ["batch"], devices=["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="initialize"):
        mesh.torch_mesh  # noqa: B018 - needs a process group


def test_tensor_layout_axes_must_name_mesh_axes():
    mesh = dist_api.DeviceMesh((2,), ["model"], devices=["cpu:0", "cpu:1"])
    layout = dist_api.TensorLayout((None, "model"), mesh)
    assert layout.axes == (None, "model") and layout.device_mesh is mesh
    from torch.distributed.tensor import Shard

    assert layout.placements() == [Shard(1)]
    with pytest.raises(ValueError, match="Invalid axis names"):
        dist_api.TensorLayout(("batch",), mesh)
    with pytest.raises(ValueError, match="override"):
        layout.device_mesh = mesh


def test_layout_map_matches_whole_paths_and_refuses_ambiguity():
    mesh = dist_api.DeviceMesh((2,), ["model"], devices=["cpu:0", "cpu:1"])
    layout_map = dist_api.LayoutMap(mesh)
    layout_map["dense.*kernel"] = (None, "model")
    layout_map[".*bias"] = ("model",)
    assert layout_map["dense_1/kernel"].axes == (None, "model")
    assert layout_map["model/dense/kernel"] is None  # matched in full, as Keras does
    assert layout_map["nothing"] is None
    assert list(layout_map) == ["dense.*kernel", ".*bias"] and len(layout_map) == 2
    layout_map["dense.*"] = ("model",)
    with pytest.raises(ValueError, match="matches multiple layout specification keys"):
        layout_map["dense/bias"]  # noqa: B018
    with pytest.raises(ValueError, match="already exist"):
        layout_map["dense.*kernel"] = ("model", None)
    with pytest.raises(ValueError, match="TensorLayout"):
        layout_map["other"] = "model"
    del layout_map["dense.*"]
    assert layout_map["dense/bias"].axes == ("model",)


def test_data_parallel_and_model_parallel_defaults():
    dp = dist_api.DataParallel(devices=["cpu:0", "cpu:1"])
    assert dp.device_mesh.shape == (2,) and dp.batch_dim_name == "batch" and dp.auto_shard_dataset
    assert dp.get_data_layout((8, 3)).axes == ("batch", None)
    with pytest.raises(ValueError, match="1D device mesh"):
        dist_api.DataParallel(device_mesh=dist_api.DeviceMesh((1, 2), ["a", "b"], devices=["cpu:0", "cpu:1"]))
    mesh = dist_api.DeviceMesh((1, 2), ["batch", "model"], devices=["cpu:0", "cpu:1"])
    layout_map = dist_api.LayoutMap(mesh)
    layout_map["d/kernel"] = (None, "model")
    mp = dist_api.ModelParallel(layout_map=layout_map)
    assert mp.batch_dim_name == "batch" and mp.device_mesh is mesh
    kernel = keras.Variable(np.ones((2, 3), "float32"), name="kernel", path="d/kernel")
    other = keras.Variable(np.ones((3,), "float32"), name="bias", path="d/bias")
    assert mp.get_variable_layout(kernel).axes == (None, "model")
    assert mp.get_variable_layout(other).axes == (None,)
    with pytest.raises(ValueError, match="layout_map"):
        dist_api.ModelParallel()
    with pytest.raises(ValueError, match="batch_dim_name"):
        dist_api.ModelParallel(layout_map=layout_map, batch_dim_name="data")


def test_set_distribution_scope_and_type_check():
    dp = dist_api.DataParallel(devices=["cpu:0"])
    assert dist_api.distribution() is None
    with dp.scope():
        assert dist_api.distribution() is dp
        assert distributed.active() is None  # one process: fit runs as usual
    assert dist_api.distribution() is None
    with pytest.raises(ValueError):
        dist_api.set_distribution("data_parallel")


def test_initialize_checks_arguments_against_the_launcher(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ValueError, match="num_processes=4.*WORLD_SIZE is 2"):
        dist_api.initialize(num_processes=4)
    with pytest.raises(ValueError, match="process_id=1.*RANK is 0"):
        dist_api.initialize(process_id=1)
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    with pytest.raises(ValueError, match="torchrun"):
        dist_api.initialize()
    with pytest.raises(ValueError, match="host:port"):
        dist_api.initialize("nohost", num_processes=1, process_id=0)


def test_distribute_tensor_without_a_group_returns_the_tensor():
    layout = dist_api.TensorLayout(("batch", None))
    t = dist_api.distribute_tensor(np.ones((4, 2), "float32"), layout)
    assert tuple(t.shape) == (4, 2)


@pytest.mark.parametrize("n,world", [(64, 2), (65, 2), (7, 3), (1, 2)])
def test_batch_slices_cover_the_batch_in_order(n, world):
    bounds = [distributed._slice_bounds(n, r, world) for r in range(world)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1
    assert distribution_lib.is_chief() and distribution_lib.num_processes() == 1
