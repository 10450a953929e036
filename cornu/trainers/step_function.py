"""The per-batch functions ``fit``/``evaluate``/``predict`` call, eager or captured with ``torch.compile``.

``jit_compile=True`` compiles the whole step -- forward, loss, backward,
optimizer update and metric updates -- as one graph: dynamo traces the
backward pass too (``trace_autograd_ops``), and the optimizers keep every
per-step scalar in a device tensor, so nothing in the step depends on a Python
number that changes from step to step. Each distinct input signature (the
full batch, the smaller last batch) is compiled once and cached; shapes are
static (``dynamic=False``), which is what CUDA graphs need.

Environment knobs (for benchmarks and tests): ``CORNU_COMPILE_BACKEND``
(default ``inductor``; ``aot_eager`` traces without generating code) and
``CORNU_COMPILE_MODE`` (e.g. ``reduce-overhead`` for CUDA graphs).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Callable

import torch


class CompiledFunction:
    """``fn`` compiled by ``torch.compile``; counts its compilations; falls back to eager if capture fails."""

    def __init__(self, fn: Callable, name: str):
        self.fn = fn
        self.name = name
        self.compilations = 0
        self._eager = False
        self._warm = False
        backend = os.environ.get("CORNU_COMPILE_BACKEND", "inductor")
        mode = os.environ.get("CORNU_COMPILE_MODE") or None
        self._compiled = torch.compile(fn, backend=backend, mode=mode, dynamic=False)

    def __call__(self, *args, **kwargs):
        if self._eager or not self._warm:
            # The first call runs eagerly: it builds what is created lazily (layers, optimizer state,
            # metrics), which is not a computation to capture.
            self._warm = True
            return self.fn(*args, **kwargs)
        graphs = _graph_count()
        try:
            with _capture_backward():
                return self._compiled(*args, **kwargs)
        except (torch._dynamo.exc.Unsupported, torch._dynamo.exc.BackendCompilerFailed,
                torch._dynamo.exc.InternalTorchDynamoError) as e:
            self._eager = True
            warnings.warn(f"jit_compile: the {self.name} could not be compiled ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:200]}); it runs eagerly from now on.", RuntimeWarning,
                          stacklevel=3)
            return self.fn(*args, **kwargs)
        finally:
            self.compilations += _graph_count() - graphs


def _graph_count() -> int:
    """Graphs dynamo has compiled in this process so far."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


@contextlib.contextmanager
def _capture_backward():
    """Let dynamo trace ``loss.backward()`` into the same graph (torch versions that support it)."""
    config = torch._dynamo.config
    if hasattr(config, "trace_autograd_ops"):
        with config.patch(trace_autograd_ops=True):
            yield
    else:
        yield


def resolve_jit_compile(jit_compile: Any, run_eagerly: bool) -> bool:
    """Keras's ``jit_compile`` argument: True, False or "auto" (on PyTorch Keras resolves "auto" to False)."""
    if run_eagerly and jit_compile is True:
        warnings.warn("If `run_eagerly` is True, then `jit_compile` cannot also be True. Disabling `jit_compile`.",
                      stacklevel=3)
        return False
    # "auto": compiling costs tens of seconds up front and pays off only for long runs; eager, as Keras on torch.
    return jit_compile is True
