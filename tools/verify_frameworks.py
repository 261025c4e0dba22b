"""Run ``poolref verify`` on the named framework adapters and check each verdict against the record.

For every framework (or the ones named on the command line) this builds a
throwaway virtualenv holding only that framework and poolref (with its
``strategies`` extra), runs ``poolref verify ADAPTER`` for each of its
adapters, and compares the exit status and the failing check with
:data:`EXPECTED`, the verdicts recorded in docs/findings.md: a pass where
the framework is right within its declared rules, the known failure where
it is not. A fixed upstream bug, a new one, or a poolref regression shows as
a MISMATCH and exit status 1. Install and verify times are printed.

    python tools/verify_frameworks.py                     # every framework, fresh venvs
    python tools/verify_frameworks.py tensorflow paddle   # some of them
    python tools/verify_frameworks.py --here mygrad onnx  # this interpreter, no venv (CI)

With ``--here`` nothing is installed: the adapters run in this interpreter
and a framework that is not importable is a failure. ``--keep DIR`` builds
the venvs under DIR and keeps them (default: a temporary folder, removed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Expect:
    """The recorded verdict: exit status and the failing checks' tags that must appear."""

    status: int
    checks: tuple[str, ...] = ()
    args: tuple[str, ...] = ()  # extra `poolref verify` arguments (budget)


@dataclass(frozen=True)
class Framework:
    packages: tuple[str, ...]
    adapters: tuple[str, ...]
    env: dict = field(default_factory=dict)


#: framework -> what to pip install and which adapters to run. The cheap ones
#: (mygrad, onnx, mlx) are also poolref extras and run in CI (.ci/run).
FRAMEWORKS = {
    "mygrad": Framework(("mygrad",), ("mygrad",)),
    "onnx": Framework(("onnx", "onnxruntime"), ("onnx-reference", "onnxruntime")),
    "mlx": Framework(("mlx[cpu]",), ("mlx",)),
    "tensorflow": Framework(
        ("tensorflow",), ("tensorflow", "tensorflow-argmax"), {"TF_CPP_MIN_LOG_LEVEL": "3"}
    ),
    "keras": Framework(
        ("keras", "jax"), ("keras", "keras-channels-last"), {"KERAS_BACKEND": "jax"}
    ),
    "tinygrad": Framework(("tinygrad",), ("tinygrad",)),
    "paddle": Framework(("paddlepaddle",), ("paddle",)),
}

#: adapter -> recorded verdict (docs/findings.md explains each failure).
EXPECTED = {
    # out-of-bounds read for size-1 trailing axes with a non-itemsize stride
    "mygrad": Expect(1, ("[values]",)),
    # CommonPool path (stride 1, dilation 1): plane instead of global indices
    "onnx-reference": Expect(1, ("[indices]",)),
    "onnxruntime": Expect(0),
    # int8/int16 padded with 0
    "mlx": Expect(1, ("[values]",)),
    # the gradient goes to a NaN the forward ignored
    "tensorflow": Expect(1, ("[gradient]",)),
    "tensorflow-argmax": Expect(0),
    "keras": Expect(0),
    "keras-channels-last": Expect(0),
    # an all -inf float64 window gives float32's lowest value
    "paddle": Expect(1, ("[values]",)),
    # a window that starts with NaN: out-of-range index
    "tinygrad": Expect(1, ("[indices]",), ("--examples", "0")),
}


def _run(cmd, env=None, timeout=None) -> tuple[int, str, float]:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        out, status = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, status = f"{exc.stdout or ''}{exc.stderr or ''}\ntimed out after {timeout} s", -1
    return status, out, time.perf_counter() - start


def _install(name: str, fw: Framework, root: Path) -> tuple[str | None, float, str]:
    """A fresh venv under ``root`` with poolref[strategies] and the framework: (python, seconds, log)."""
    venv = root / name
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    status, log, _ = _run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    if status == 0:
        status, log, _ = _run(
            [python, "-m", "pip", "install", "-q", f"{REPO}[strategies]", *fw.packages]
        )
    return (python if status == 0 else None), time.perf_counter() - start, log


def _verify(python: str, adapter: str, fw: Framework, timeout: float) -> tuple[str, float, str]:
    """Run one adapter; returns (OK/MISMATCH line part, seconds, output)."""
    expect = EXPECTED[adapter]
    env = {**os.environ, **fw.env}
    if python == sys.executable:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    status, out, seconds = _run(
        [python, "-m", "poolref", "verify", adapter, *expect.args], env=env, timeout=timeout
    )
    missing = [c for c in expect.checks if c not in out]
    verdict = {0: "PASS", 1: "FAIL", 2: "usage error"}.get(status, f"exit {status}")
    ok = status == expect.status and not missing
    want = "PASS" if expect.status == 0 else f"FAIL {' '.join(expect.checks)}"
    note = "" if ok else f" (expected {want}{'; missing ' + ', '.join(missing) if missing else ''})"
    found = f" {' '.join(expect.checks)}" if ok and expect.checks else ""
    return f"{'ok      ' if ok else 'MISMATCH'} {verdict}{found}{note}", seconds, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "frameworks",
        nargs="*",
        metavar="FRAMEWORK",
        help=f"default: all of {', '.join(FRAMEWORKS)}",
    )
    parser.add_argument("--here", action="store_true", help="use this interpreter; install nothing")
    parser.add_argument("--keep", metavar="DIR", help="build the venvs under DIR and keep them")
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds per `poolref verify` run (default 1800)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print each run's output")
    args = parser.parse_args(argv)
    names = args.frameworks or list(FRAMEWORKS)
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        parser.error(f"unknown framework(s) {', '.join(unknown)}; known: {', '.join(FRAMEWORKS)}")
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="poolref-frameworks-"))
    failures = 0
    try:
        for name in names:
            fw = FRAMEWORKS[name]
            if args.here:
                python, install = sys.executable, 0.0
            else:
                python, install, log = _install(name, fw, root)
                if python is None:
                    print(
                        f"{name:<11} install FAILED after {install:.0f} s: {log.strip().splitlines()[-1] if log.strip() else ''}"
                    )
                    failures += 1
                    continue
            where = (
                "(this interpreter)"
                if args.here
                else f"installed {' '.join(fw.packages)} in {install:.0f} s"
            )
            print(f"{name:<11} {where}")
            for adapter in fw.adapters:
                line, seconds, out = _verify(python, adapter, fw, args.timeout)
                failures += not line.startswith("ok")
                print(f"  {adapter:<20} {seconds:6.1f} s  {line}")
                if args.verbose or not line.startswith("ok"):
                    print("    " + out.strip().replace("\n", "\n    "))
                sys.stdout.flush()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(
        "all verdicts as recorded"
        if not failures
        else f"{failures} verdict(s) differ from the record"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
