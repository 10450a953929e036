"""Control flow on KerasTensors (output specs) and inside torch.compile (no graph breaks)."""
import pytest
import torch

from cornu import ops
from cornu.symbolic import KerasTensor

X = KerasTensor((None, 3))


def _spec(t):
    return tuple(t.shape), t.dtype


def test_cond_and_switch_specs():
    p = KerasTensor((), dtype="bool")
    assert _spec(ops.cond(p, lambda: X * 2, lambda: X + 1)) == ((None, 3), "float32")
    a, b = ops.cond(p, lambda: (X, X[:, :1]), lambda: (X + 1, X[:, 1:2]))
    assert (_spec(a), _spec(b)) == (((None, 3), "float32"), ((None, 1), "float32"))
    with pytest.raises(ValueError, match="same kind"):
        ops.cond(p, lambda: X * 2, lambda: ops.sum(X))
    out = ops.switch(KerasTensor((), dtype="int32"), [lambda a: a * 2, lambda a: a + 1], X)
    assert _spec(out) == ((None, 3), "float32")
    with pytest.raises(ValueError, match="same kind"):
        ops.switch(KerasTensor((), dtype="int32"), [lambda a: a * 2, lambda a: a[:, 0]], X)


def test_loop_specs():
    i, v = ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2), (KerasTensor((), dtype="int32"), X))
    assert (_spec(i), _spec(v)) == (((), "int32"), ((None, 3), "float32"))
    assert _spec(ops.while_loop(lambda v: ops.sum(v) < 3, lambda v: v * 2, X)) == ((None, 3), "float32")
    assert _spec(ops.fori_loop(0, 3, lambda i, v: v * 2, X)) == ((None, 3), "float32")
    assert _spec(ops.fori_loop(0, KerasTensor((), dtype="int32"), lambda i, v: v * 2, X)) == ((None, 3), "float32")


def test_scan_map_specs():
    carry, ys = ops.scan(lambda c, x: (c + x, c * 2), KerasTensor((3,)), KerasTensor((5, 3)))
    assert (_spec(carry), _spec(ys)) == (((3,), "float32"), ((5, 3), "float32"))
    carry, ys = ops.scan(lambda c, x: (c + x, c * 2), KerasTensor((3,)), KerasTensor((None, 3)))
    assert _spec(ys) == ((None, 3), "float32")
    assert ops.scan(lambda c, x: (c + x, None), KerasTensor((3,)), KerasTensor((5, 3)))[1] is None
    assert _spec(ops.associative_scan(lambda a, b: a + b, KerasTensor((5, None)), axis=1)) == ((5, None), "float32")
    assert _spec(ops.map(lambda v: ops.sum(v, axis=-1), KerasTensor((4, 3, 2)))) == ((4, 3), "float32")
    assert _spec(ops.map(lambda v: ops.sum(v, axis=-1), X)) == ((None,), "float32")
    assert _spec(ops.vectorized_map(lambda v: v * 2, X)) == ((None, 3), "float32")
    a, b = ops.vectorized_map(lambda v: (v[0] * 2, v[1]), (KerasTensor((4, 3)), KerasTensor((4,))))
    assert (_spec(a), _spec(b)) == (((4, 3), "float32"), ((4,), "float32"))


def test_symbolic_loop_in_a_functional_model():
    from cornu import Input, Model

    inp = Input((3,))
    out = ops.fori_loop(0, 3, lambda i, v: v * 2, inp)
    model = Model(inp, out)
    x = torch.ones(2, 3)
    torch.testing.assert_close(model(x), x * 8)


FUNCTIONS = {
    "cond": lambda x: ops.cond(x.sum() > 0, lambda: x * 2, lambda: x - 1),
    "switch": lambda x: ops.switch((x.sum() > 0).to(torch.int32), [lambda a: a * 2, lambda a: a - 1, lambda a: a], x),
    "while_loop": lambda x: ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2), (torch.tensor(0), x))[1],
    "while_loop_max": lambda x: ops.while_loop(lambda v: v.sum() < 1e9, lambda v: v * 2 + 1, x.abs(),
                                               maximum_iterations=5),
    "fori_loop": lambda x: ops.fori_loop(0, 3, lambda i, v: v * 2 + i, x),
    "fori_loop_tensor_bounds": lambda x: ops.fori_loop(torch.tensor(0), torch.tensor(3), lambda i, v: v * 2 + i, x),
    "scan": lambda x: ops.scan(lambda c, xi: (c + xi, c * 2), torch.zeros(3), x)[1],
    "associative_scan": lambda x: ops.associative_scan(lambda a, b: a + b, x),
    "map": lambda x: ops.map(lambda v: v.sum(), x),
    "vectorized_map": lambda x: ops.vectorized_map(lambda v: v * v.sum(), x),
}
FAST = ["cond", "fori_loop", "scan"]


def _no_graph_break(name):
    import torch._dynamo as dynamo

    fn = FUNCTIONS[name]
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    dynamo.reset()
    try:
        report = dynamo.explain(fn)(x)
        assert report.graph_break_count == 0, [str(b.reason) for b in report.break_reasons]
        assert report.graph_count == 1
        for sign in (1, -1):  # both branches / outcomes, compiled whole
            compiled = torch.compile(fn, backend="eager", fullgraph=True)
            torch.testing.assert_close(compiled(sign * x), fn(sign * x))
    finally:
        dynamo.reset()


@pytest.mark.parametrize("name", FAST)
def test_compiles_without_graph_breaks(name):
    _no_graph_break(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - set(FAST)))
def test_compiles_without_graph_breaks_all(name):
    _no_graph_break(name)
