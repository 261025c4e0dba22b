"""What running the target in a worker process costs ``poolref verify``, in one run.

Run from the repository root::

    python -m asv_bench.isolation_overhead                 # poolref-fast, 2-D, 200 examples, 5 repeats
    python -m asv_bench.isolation_overhead --target poolref-fast --ndim 1,2,3 --examples 200 --repeat 3

Times the whole command (``python -m poolref verify TARGET --ndim ... --examples N --seed 0 -q``,
interpreter start included) in its default mode, where TARGET runs in a worker process, and with
``--in-process``; the two are run alternately so a shared machine's drifts hit both alike. Prints
the median wall time of each, their ratio, and the extra time per case (the run's
corner cases plus examples, read from its PASS line). Both must pass: a failing run is reported and
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


def _run(argv: list[str]) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "poolref", "verify", *argv], capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        msg = f"poolref verify {' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        raise SystemExit(msg)
    counts = re.search(r"(\d+) corner cases, (\d+) Hypothesis examples", done.stdout)
    calls = int(counts[1]) + int(counts[2]) if counts else 0
    return seconds, calls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="poolref-fast")
    parser.add_argument("--ndim", default="2")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    common = [args.target, "--ndim", args.ndim, "--examples", str(args.examples), "--seed", "0", "-q"]
    times: dict[str, list[float]] = {"worker process (default)": [], "--in-process": []}
    calls = 0
    for _ in range(args.repeat):
        seconds, calls = _run(common)
        times["worker process (default)"].append(seconds)
        seconds, _ = _run([*common, "--in-process"])
        times["--in-process"].append(seconds)
    median = {mode: statistics.median(values) for mode, values in times.items()}
    print(f"poolref verify {' '.join(common)}: {calls} cases (corner + random), median of {args.repeat} runs each")
    for mode, seconds in median.items():
        print(f"  {mode:<26} {seconds:6.2f} s")
    isolated, inside = median["worker process (default)"], median["--in-process"]
    print(f"  ratio worker / in-process: {isolated / inside:.2f}")
    if calls:
        print(f"  extra per case: {(isolated - inside) / calls * 1e3:.2f} ms (forward and backward calls; worker start included)")


if __name__ == "__main__":
    main()
