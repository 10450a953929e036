"""Control flow ops (cond, switch, loops, scans, maps, custom gradients, saturate_cast) against plain Python/NumPy."""
import numpy as np
import pytest
import torch

from cornu import ops
from tests.helpers import assert_close, f64, seeded


def test_cond_and_switch():
    assert ops.cond(torch.tensor(True), lambda: 1, lambda: 2) == 1
    assert ops.cond(np.array(False), lambda: 1, lambda: 2) == 2
    branches = [lambda a, b: a + b, lambda a, b: a * b]
    assert ops.switch(1, branches, 2.0, 3.0) == 6.0
    assert ops.switch(torch.tensor(7), branches, 2.0, 3.0) == 6.0  # clamped to the last branch
    assert ops.switch(-2, branches, 2.0, 3.0) == 5.0  # clamped to the first branch
    with pytest.raises(ValueError, match="branches"):
        ops.switch(0, [], 1.0)


def test_while_loop_structures():
    out = ops.while_loop(lambda i: i < 5, lambda i: i + 1, 0)
    assert int(out) == 5 and out.dtype == torch.int32
    i, total = ops.while_loop(lambda i, s: i < 5, lambda i, s: [i + 1, s + i], [0, 0])
    assert (int(i), int(total)) == (5, sum(range(5)))
    assert int(ops.while_loop(lambda i: i < 5, lambda i: i + 1, 0, maximum_iterations=3)) == 3
    (single,) = ops.while_loop(lambda i: i < 4, lambda i: (i + 2,), (0,))
    assert int(single) == 4
    d = ops.while_loop(lambda d: d["a"] < 3, lambda d: {"a": d["a"] + 1}, {"a": 0})
    assert int(d["a"]) == 3


def test_fori_loop():
    assert ops.fori_loop(0, 5, lambda i, v: v + i, 0) == 10
    assert ops.fori_loop(1, 4, lambda i, v: (v[0] * i, v[1] + i), (1, 0)) == (6, 6)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_cumulative_sum(reverse):
    xs = seeded(0).normal(size=(5, 3)).astype("float32")
    carry, ys = ops.scan(lambda c, x: (c + x, c), np.zeros(3, "float32"), xs, reverse=reverse, unroll=2)
    order = xs[::-1] if reverse else xs
    prefix = np.concatenate([np.zeros((1, 3)), np.cumsum(f64(order), 0)[:-1]])
    assert_close(carry, f64(xs).sum(0), rtol=1e-5)
    assert_close(ys, prefix[::-1] if reverse else prefix, rtol=1e-5, atol=1e-6)


def test_scan_trees_length_and_errors():
    carry, ys = ops.scan(lambda c, x: ((c[0] + x["a"], c[1]), {"y": x["a"] * 2}), (0.0, 1.0),
                         {"a": np.arange(3, dtype="float32")})
    assert float(carry[0]) == 3.0 and float(carry[1]) == 1.0
    assert_close(ys["y"], 2 * np.arange(3))
    carry, ys = ops.scan(lambda c, x: (c + 1, c), 0.0, length=4)
    assert float(carry) == 4.0 and ys.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ops.scan(lambda c, x: (c + x, None), 0.0, np.ones(3, "float32"))[1] is None
    with pytest.raises(ValueError, match="length"):
        ops.scan(lambda c, x: (c, c), 0.0)
    with pytest.raises(ValueError, match="length"):
        ops.scan(lambda c, x: (c, c), 0.0, np.ones(3, "float32"), length=2)


def test_map_and_vectorized_map():
    x = seeded(1).normal(size=(4, 3)).astype("float32")
    out = ops.map(lambda v: (v * 2, v.sum()), x)
    assert_close(out[0], 2 * f64(x))
    assert_close(out[1], f64(x).sum(1), rtol=1e-5)
    tree_out = ops.map(lambda v: {"s": v["a"] + v["b"]}, {"a": x, "b": x})
    assert_close(tree_out["s"], 2 * f64(x))
    assert_close(ops.vectorized_map(lambda v: v @ v, x), (f64(x) ** 2).sum(1), rtol=1e-5)
    assert_close(ops.vectorized_map(lambda p: p[0] * p[1], (x, x)), f64(x) ** 2, rtol=1e-5)


def test_associative_scan():
    x = seeded(2).normal(size=(6, 2)).astype("float32")
    assert_close(ops.associative_scan(lambda a, b: a + b, x), np.cumsum(f64(x), 0), rtol=1e-5, atol=1e-6)
    assert_close(ops.associative_scan(lambda a, b: a + b, x, reverse=True),
                 np.cumsum(f64(x)[::-1], 0)[::-1], rtol=1e-5, atol=1e-6)
    assert_close(ops.associative_scan(lambda a, b: a * b, x, axis=1), np.cumprod(f64(x), 1), rtol=1e-5)
    mats = seeded(3).normal(size=(5, 2, 2)).astype("float32")
    out = ops.associative_scan(lambda a, b: a @ b, mats)
    ref = [f64(mats[0])]
    for m in f64(mats[1:]):
        ref.append(ref[-1] @ m)
    assert_close(out, np.stack(ref), rtol=1e-4, atol=1e-5)
    both = ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] * b[1]), (x[:, 0], x[:, 1]))
    assert_close(both[1], np.cumprod(f64(x[:, 1])), rtol=1e-5)


def test_custom_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(*args, upstream=None):
            return torch.clamp(upstream, -0.5, 0.5)
        return x * 1.0, grad

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (clipped_identity(x) * torch.tensor([3.0, -0.1])).sum().backward()
    assert x.grad.tolist() == pytest.approx([0.5, -0.1])

    @ops.custom_gradient
    def product(a, b):
        def grad(a_, b_, upstream=None):
            return upstream * 10, upstream * b_ * 0
        return a * b, grad

    a, b = torch.ones(2, requires_grad=True), torch.full((2,), 3.0, requires_grad=True)
    product(a, b).sum().backward()
    assert a.grad.tolist() == [10.0, 10.0] and b.grad.tolist() == [0.0, 0.0]


def test_saturate_cast():
    x = np.array([-300.0, 0.5, 300.7, 1e10], "float32")
    out = ops.saturate_cast(x, "uint8")
    assert out.dtype == torch.uint8 and out.tolist() == [0, 0, 255, 255]
    assert ops.saturate_cast(np.array([-3e9, 3e9], "float32"), "int32").tolist() == [-2**31, 2**31 - 1]
    assert ops.saturate_cast(np.array([-300, 5, 70000], "int32"), "int8").tolist() == [-128, 5, 127]
    f16 = ops.saturate_cast(np.array([-1e6, 5.0], "float32"), "float16")
    assert f16.tolist() == [-65504.0, 5.0]
    assert ops.saturate_cast(np.array([-3, 5], "int32"), "float32").tolist() == [-3.0, 5.0]


def test_stop_gradient_blocks_gradient():
    x = torch.tensor([2.0], requires_grad=True)
    (x * ops.stop_gradient(x)).sum().backward()
    assert x.grad.tolist() == [2.0]
