"""Per-call overhead of common ``keras.ops`` in cornu vs the same torch call made directly.

On small tensors (where the kernel costs little and the Python around it is
what shows), each op is timed as ``cornu.ops.<op>(...)`` and as the torch call
it stands for. The two are interleaved: every round times a batch of calls of
one, then of the other, so machine noise hits both alike; the figure is the
median over rounds of the per-call time in nanoseconds.

Output: one JSON line per op (``cornu_ns``, ``torch_ns``, ``ratio``), then a
summary line with the median ratio overall and over the element-wise ops (the
target is at most 1.5x there). Run with ``OMP_NUM_THREADS=1``:

    OMP_NUM_THREADS=1 python bench/ops_overhead.py [--rounds 30] [--calls 200]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("CORNU_DEVICE", "cpu")

import torch  # noqa: E402

from cornu import ops  # noqa: E402

ELEMENTWISE = {"add", "multiply", "relu", "exp", "log", "sqrt", "where", "maximum", "cast", "clip", "abs"}


def cases(device: torch.device) -> dict:
    """Op name -> (cornu call, the equivalent torch call), on small float32 tensors."""
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.rand(8, 16, generator=g).to(device) + 0.1
    b = torch.rand(8, 16, generator=g).to(device) + 0.1
    m = torch.rand(16, 8, generator=g).to(device)
    c = a > 0.5
    s = a.unsqueeze(0)
    return {
        "add": (lambda: ops.add(a, b), lambda: torch.add(a, b)),
        "multiply": (lambda: ops.multiply(a, b), lambda: torch.mul(a, b)),
        "matmul": (lambda: ops.matmul(a, m), lambda: torch.matmul(a, m)),
        "relu": (lambda: ops.relu(a), lambda: torch.relu(a)),
        "softmax": (lambda: ops.softmax(a), lambda: torch.softmax(a, dim=-1)),
        "sum": (lambda: ops.sum(a, axis=-1), lambda: torch.sum(a, dim=-1)),
        "mean": (lambda: ops.mean(a, axis=-1), lambda: torch.mean(a, dim=-1)),
        "reshape": (lambda: ops.reshape(a, (16, 8)), lambda: torch.reshape(a, (16, 8))),
        "transpose": (lambda: ops.transpose(a), lambda: torch.permute(a, (1, 0))),
        "concatenate": (lambda: ops.concatenate([a, b], axis=0), lambda: torch.cat([a, b], dim=0)),
        "exp": (lambda: ops.exp(a), lambda: torch.exp(a)),
        "log": (lambda: ops.log(a), lambda: torch.log(a)),
        "sqrt": (lambda: ops.sqrt(a), lambda: torch.sqrt(a)),
        "where": (lambda: ops.where(c, a, b), lambda: torch.where(c, a, b)),
        "maximum": (lambda: ops.maximum(a, b), lambda: torch.maximum(a, b)),
        "cast": (lambda: ops.cast(a, "float16"), lambda: a.to(torch.float16)),
        "expand_dims": (lambda: ops.expand_dims(a, 0), lambda: torch.unsqueeze(a, 0)),
        "squeeze": (lambda: ops.squeeze(s, 0), lambda: torch.squeeze(s, 0)),
        "clip": (lambda: ops.clip(a, 0.2, 0.8), lambda: torch.clamp(a, 0.2, 0.8)),
        "abs": (lambda: ops.abs(a), lambda: torch.abs(a)),
    }


def per_call_ns(fn, calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    table = cases(device)
    print(json.dumps({"bench": "ops_overhead", "device": str(device), "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "rounds": args.rounds, "calls": args.calls}), flush=True)
    ratios = {}
    for name, (ours, theirs) in table.items():
        for fn in (ours, theirs):  # warm-up: first-call caches, lazy imports
            per_call_ns(fn, 20)
        ours_ns, theirs_ns = [], []
        for _ in range(args.rounds):
            ours_ns.append(per_call_ns(ours, args.calls))
            theirs_ns.append(per_call_ns(theirs, args.calls))
        c, t = statistics.median(ours_ns), statistics.median(theirs_ns)
        ratios[name] = c / t
        print(json.dumps({"op": name, "cornu_ns": round(c), "torch_ns": round(t), "ratio": round(c / t, 2),
                          "elementwise": name in ELEMENTWISE}), flush=True)
    elementwise = [r for n, r in ratios.items() if n in ELEMENTWISE]
    print(json.dumps({"summary": "ops_overhead", "median_ratio": round(statistics.median(ratios.values()), 2),
                      "median_elementwise_ratio": round(statistics.median(elementwise), 2),
                      "max_elementwise_ratio": round(max(elementwise), 2),
                      "over_1_5x": sorted(n for n in ELEMENTWISE if ratios[n] > 1.5)}), flush=True)


if __name__ == "__main__":
    main()
