"""What running the target in a worker process costs ``poolref verify``, in one run.

Run from the repository root::

    python -m asv_bench.isolation_overhead                 # poolref-fast, 2-D, 200 examples, 5 repeats
    python -m asv_bench.isolation_overhead --target poolref-fast --ndim 1,2,3 --examples 200 --repeat 3

Times the whole command (``python -m poolref verify TARGET --ndim ... --examples N --seed 0 -q``,
interpreter start included) in its default mode, where TARGET runs in a worker process, and with
``--in-process``; the two are run alternately so a shared machine's drifts hit both alike. Prints
the median wall time of each, their ratio, the time to start a worker, and the rest of the
difference per case (the run's corner cases plus examples, read from its PASS line). Both must pass: a failing run is reported and
not timed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python asv_bench/isolation_overhead.py` as well as `-m`
    sys.path.insert(0, str(ROOT))


def _run(argv: list[str]) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "poolref", "verify", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        msg = (
            f"poolref verify {' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
        raise SystemExit(msg)
    counts = re.search(r"(\d+) corner cases, (\d+) Hypothesis examples", done.stdout)
    calls = int(counts[1]) + int(counts[2]) if counts else 0
    return seconds, calls


def _worker_start(target: str) -> float:
    """Seconds to start a worker that builds the named adapter (fresh interpreter, NumPy, poolref)."""
    import functools

    from poolref import adapters
    from poolref.testing._worker import isolated

    start = time.perf_counter()
    with isolated(functools.partial(adapters.named, target)):
        seconds = time.perf_counter() - start
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="poolref-fast")
    parser.add_argument("--ndim", default="2")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    common = [
        args.target,
        "--ndim",
        args.ndim,
        "--examples",
        str(args.examples),
        "--seed",
        "0",
        "-q",
    ]
    times: dict[str, list[float]] = {"worker process (default)": [], "--in-process": []}
    calls = 0
    starts = []
    for _ in range(args.repeat):
        starts.append(_worker_start(args.target))
        seconds, calls = _run(common)
        times["worker process (default)"].append(seconds)
        seconds, _ = _run([*common, "--in-process"])
        times["--in-process"].append(seconds)
    median = {mode: statistics.median(values) for mode, values in times.items()}
    print(
        f"poolref verify {' '.join(common)}: {calls} cases (corner + random), median of {args.repeat} runs each"
    )
    for mode, seconds in median.items():
        print(f"  {mode:<26} {seconds:6.2f} s")
    isolated, inside = median["worker process (default)"], median["--in-process"]
    print(f"  ratio worker / in-process: {isolated / inside:.2f}")
    start = statistics.median(starts)
    print(f"  worker start (median): {start:.2f} s")
    if calls:
        print(
            f"  extra per case, start excluded: {(isolated - inside - start) / calls * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
