"""Fuzz run of the model-file loaders: mutated ``.keras`` / ``.h5`` / ``.weights.h5`` files, loaded in a loop.

The cases come from ``tests/saving/fuzz_cases.py`` (the CI test runs a 150-file subset of the same
generator). Each file is loaded by every loader of its kind (``load_model``, ``load_weights``,
``load_weights(by_name=True)``, ``KerasFileEditor``) in an empty working directory, with a time limit per
load; a load that never returns (stuck in C code) is ended by a watchdog and reported with its stack. Reported as
one JSON object: files tried, loads, outcomes by exception class, unclean failures (any exception other than
ValueError / OSError / TypeError / NotImplementedError, or one without a message), hangs inside libhdf5 (a corrupt
file can make libhdf5 itself loop; nothing in-process can stop it), the slowest load, whether
the sentinel Lambda ever ran, any file left outside the working directory, and a few messages per exception
class.

    OMP_NUM_THREADS=1 python bench/fuzz_files.py [--files 1000] [--seed 1] [--time-limit 10]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cornu  # noqa: E402
from tests.saving import fuzz_cases  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="cornu_fuzz_")
    seeds_dir, work = os.path.join(root, "seeds"), os.path.join(root, "work")
    os.makedirs(seeds_dir)
    os.makedirs(work)
    seeds = fuzz_cases.make_seeds(cornu, seeds_dir)
    os.chdir(work)
    outcomes: collections.Counter = collections.Counter()
    by_mutation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    unclean, libhdf5_hangs, slowest = [], [], (0.0, "")
    examples: dict[str, list[str]] = collections.defaultdict(list)
    code_runs = 0
    start = time.perf_counter()
    files = 0
    with fuzz_cases.Runner(work, args.time_limit) as runner:
        for case in fuzz_cases.generate(seeds, args.files, args.seed):
            files += 1
            for outcome in runner.run(case):
                name = outcome.error or "loaded"
                outcomes[name] += 1
                by_mutation[case.mutation][name] += 1
                message = f"{outcome.message:.160}"
                if outcome.error and len(examples[name]) < 4 and message not in examples[name]:
                    examples[name].append(message)
                if fuzz_cases.hang_in_libhdf5(outcome):
                    libhdf5_hangs.append(f"{outcome.case}: {outcome.message[:700]}")
                elif not outcome.clean:
                    unclean.append(f"{outcome.case} [{outcome.loader}]: {name}: {outcome.message[:600]}")
                slowest = max(slowest, (outcome.seconds, f"{outcome.case} [{outcome.loader}]"))
            for place in (os.path.join(seeds_dir, fuzz_cases.SENTINEL), os.path.join(work, fuzz_cases.SENTINEL)):
                if os.path.exists(place):
                    code_runs += 1
                    os.remove(place)
    leftovers = sorted(set(os.listdir(root)) - {"seeds", "work"}) + os.listdir(work)
    print(json.dumps({
        "files": files, "loads": sum(outcomes.values()), "seconds": round(time.perf_counter() - start, 1),
        "outcomes": dict(outcomes.most_common()), "unclean": unclean,
        "hangs_in_libhdf5": libhdf5_hangs, "code_executions": code_runs,
        "slowest_load": {"seconds": round(slowest[0], 3), "case": slowest[1]}, "files_left_behind": leftovers,
        "outcomes_by_mutation": {k: dict(v) for k, v in sorted(by_mutation.items())},
        "example_messages": examples,
    }, indent=1))


if __name__ == "__main__":
    main()
