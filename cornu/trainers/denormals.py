"""Subnormal floats flushed to zero while cornu's loops run, as TensorFlow's kernels run.

Optimizer slots of weights whose gradient is exactly zero (a dense unit fed by an
always-black MNIST border pixel, a dead ReLU) decay through the subnormal range,
and x86 CPUs take a microcode assist on every subnormal operand: on one thread
the tutorial CNN's Adam step goes from 0.7 ms to 3.7 ms after a few epochs.
Flushing (the FTZ and DAZ bits, ``torch.set_flush_denormal``) keeps it at
0.7 ms; values below 1.2e-38 cannot move an update whose denominator holds
``epsilon``. The bits belong to each thread: they are set in the calling thread
and in torch's OpenMP worker threads for the loop, and cleared after it, so code
outside cornu's loops keeps IEEE subnormals. ``CORNU_FLUSH_DENORMAL=0`` turns
this off.
"""
from __future__ import annotations

import ctypes
import functools
import os
from typing import Callable, TypeVar

import torch

F = TypeVar("F", bound=Callable)

_SMALLEST_SUBNORMAL = 5e-324


def flushing() -> bool:
    """True when this thread already reads subnormal floats as zero (DAZ set)."""
    tiny = _SMALLEST_SUBNORMAL
    return tiny * 1.0 == 0.0


@functools.lru_cache(maxsize=1)
def _openmp_parallel() -> Callable[[Callable[[], None], int], None] | None:
    """Run a Python function once in every thread of an OpenMP team of ``n`` (torch's intra-op pool), through
    libgomp's ``GOMP_parallel``; None where torch runs on another OpenMP runtime or the library is not found."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libgomp" in line.rsplit("/", 1)[-1]}
        # Other wheels bring their own libgomp (scikit-learn's, say), with their own threads: torch's is the one
        # in torch's directory, or the only one loaded.
        torch_dir = os.path.dirname(os.path.realpath(torch.__file__))
        own = [p for p in paths if os.path.realpath(p).startswith(torch_dir + os.sep)]
        path = own[0] if len(own) == 1 else (next(iter(paths)) if len(paths) == 1 and not own else None)
        if path is None:
            return None
        gomp = ctypes.CDLL(path)
        callback_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
        parallel = gomp.GOMP_parallel
        parallel.argtypes = [callback_type, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
        parallel.restype = None
    except (OSError, AttributeError):
        return None

    def run(fn: Callable[[], None], n: int) -> None:
        callback = callback_type(lambda _: fn())
        parallel(callback, None, n, 0)

    return run


def _set_flush(on: bool) -> bool:
    """Set or clear flushing in this thread and torch's intra-op threads; False when the CPU cannot flush."""
    if not torch.set_flush_denormal(on):
        return False
    threads = torch.get_num_threads()
    team = _openmp_parallel() if threads > 1 else None
    if team is not None:
        team(lambda: torch.set_flush_denormal(on), threads)
    return True


def flushes_denormals(method: F) -> F:
    """``method`` run with subnormals flushed to zero; the threads' previous setting comes back after it."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        if flushing() or os.environ.get("CORNU_FLUSH_DENORMAL", "1") == "0" or not _set_flush(True):
            return method(*args, **kwargs)
        try:
            return method(*args, **kwargs)
        finally:
            _set_flush(False)

    return wrapper  # type: ignore[return-value]
