"""Import time: ``import cornu`` vs ``import torch``, each in a fresh interpreter.

Each contender runs in its own subprocess (nothing cached in the process); the
child times only the import statement with ``perf_counter``, so interpreter
start-up, identical for all, is left out. Contenders run in interleaved rounds
so machine noise hits all of them alike; reported is the median over rounds of
the wall time and of the process's CPU time (which a busy shared machine
distorts far less), one JSON line per contender, then the differences to torch,
cornu's against the target (at most 0.15 s more than torch, wall time). One
untimed run of each contender first writes the byte-code caches (see
``child_env``) and warms the page cache.

Each line also says which heavy modules the import loaded (``torch._dynamo``,
``torch._inductor``, ``h5py``, ``matplotlib``, ``tensorboard``, ``scipy``).
To say where cornu's extra time goes, the diagnostic contenders
``torch_gc_off`` and ``cornu_gc_off`` import with the cyclic garbage collector
disabled: ``cornu_gc_off - torch_gc_off`` is cornu's own code, and the rest of
``cornu - torch`` is the full collection pass that the objects cornu creates
set off (its cost scales with the ~170k objects torch leaves behind). The
``--statement`` option times any other statement (say, cornu with a
module stubbed) for a what-if.

    python bench/import_time.py [--runs 9] [--contenders torch,cornu] [--statement name='import x']
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TARGET_S = 0.15

STATEMENTS = {
    "torch": "import torch",
    "cornu": "import cornu",
    "torch_gc_off": "import gc; gc.disable(); import torch",
    "cornu_gc_off": "import gc; gc.disable(); import cornu",
}

HEAVY = ("torch._dynamo", "torch._inductor", "h5py", "matplotlib", "tensorboard", "scipy")

CHILD = ("import time; t0, c0 = time.perf_counter(), time.process_time(); {stmt}; "
         "t1, c1 = time.perf_counter(), time.process_time(); "
         "import json, sys; print(json.dumps([t1 - t0, c1 - c0, [m for m in {heavy!r} if m in sys.modules]]))")


def child_env() -> dict:
    """The children's environment: byte-code cached, as for any installed package.

    ``PYTHONDONTWRITEBYTECODE`` (set on some shared machines) would have every edited module compiled
    again on each import and timed with it; the caches go to a folder of their own
    (``PYTHONPYCACHEPREFIX``), for torch and cornu alike, so the working tree gets no files.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "cornu_bench_pycache"))
    return env


def time_import(stmt: str) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds the statement takes in a fresh interpreter, measured inside it; the heavy modules loaded."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(stmt=stmt, heavy=HEAVY)], capture_output=True,
                         text=True, check=True, env=child_env(),
                         cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    wall, cpu, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, cpu, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="interleaved rounds (fresh interpreter each)")
    parser.add_argument("--contenders", default=",".join(STATEMENTS),
                        help=f"comma-separated subset of {', '.join(STATEMENTS)}")
    parser.add_argument("--statement", action="append", default=[], metavar="NAME=CODE",
                        help="an extra contender: its name and the Python statements it times")
    args = parser.parse_args()
    statements = dict(STATEMENTS)
    names = [n for n in args.contenders.split(",") if n]
    for extra in args.statement:
        name, sep, code = extra.partition("=")
        if not sep or not name or not code:
            parser.error(f"--statement takes NAME=CODE; received {extra!r}")
        statements[name] = code
        names.append(name)
    unknown = [n for n in names if n not in statements]
    if unknown:
        parser.error(f"unknown contenders {unknown}; choose from {list(STATEMENTS)}")
    loaded = {n: time_import(statements[n])[2] for n in names}  # untimed: byte-code caches, page cache warm
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.runs):
        for name in names:
            w, c, _ = time_import(statements[name])
            wall[name].append(w)
            cpu[name].append(c)
    median = {n: statistics.median(t) for n, t in wall.items()}
    median_cpu = {n: statistics.median(t) for n, t in cpu.items()}
    for name in names:
        print(json.dumps({"name": name, "statement": statements[name], "runs": args.runs,
                          "median_s": round(median[name], 4), "min_s": round(min(wall[name]), 4),
                          "max_s": round(max(wall[name]), 4), "cpu_median_s": round(median_cpu[name], 4),
                          "heavy_modules_loaded": loaded[name]}))
    for name in names:
        base = "torch_gc_off" if name.endswith("_gc_off") else "torch"
        if name.startswith("torch") or base not in median:
            continue
        diff = median[name] - median[base]
        print(json.dumps({"difference": f"{name} - {base}", "seconds": round(diff, 4),
                          "cpu_seconds": round(median_cpu[name] - median_cpu[base], 4),
                          "target_s": TARGET_S if name == "cornu" else None,
                          "meets_target": diff <= TARGET_S if name == "cornu" else None}))

if __name__ == "__main__":
    main()
