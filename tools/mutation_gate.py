"""Mutation testing against a recorded full run: the record, the incremental gate, the refresh.

A full mutmut run over ``poolref/`` takes ~40 minutes on 2 cores, too long for every landing. So
the full run is kept as a record, ``docs/mutation-record.json``: every mutant's name, the hash of
the source of the function it mutates, and its verdict. CI then runs

* every mutant of every function whose source changed since the record (or is new), and
* a fixed-size, seeded random sample of the mutants of the unchanged functions,

and fails when a changed function's mutant is not killed and is not listed as equivalent in
``mutmut-equivalent.md``, or when fewer than 95% of the sample's non-equivalent mutants are
killed. See docs/mutation.md.

Usage::

    python tools/mutation_gate.py refresh             # full run, rewrite the record (~40 min)
    python tools/mutation_gate.py gate                # CI: changed functions + sample of 150
    python tools/mutation_gate.py gate --update       # ... and fold the verdicts into the record
    python tools/mutation_gate.py rerun NAME...       # re-run named mutants, update the record
    python tools/mutation_gate.py survivors           # the record's survivors, one line each
    python tools/mutation_gate.py changed             # which functions changed since the record

The hash is of the function's syntax tree (``ast.dump`` without positions): comments and
formatting do not change it, a docstring or any code does. A function's name is mutmut's
(``x_<function>`` or ``xǁ<Class>ǁ<method>``) so that a mutant's name ``<module>.<function>
__mutmut_<n>`` gives its function directly.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: mutmut depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "docs" / "mutation-record.json"
EQUIVALENTS = ROOT / "mutmut-equivalent.md"
MUTANTS = ROOT / "mutants"
SAMPLE, SEED, MIN_RATE = 150, 20261206, 0.95
KILLED = {"killed", "caught by type check"}
MUTANT_NAME = re.compile(r"poolref\.[\w.ǁ]+?__mutmut_\d+")


# ---- what is mutated, and the hash of every function ------------------------------------------


def mutmut_config(root: Path = ROOT) -> dict:
    """The ``[tool.mutmut]`` table of ``pyproject.toml``."""
    return tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]


def mutated_files(root: Path = ROOT) -> list[Path]:
    """The source files mutmut mutates: ``source_paths`` minus ``do_not_mutate``."""
    config = mutmut_config(root)
    files = []
    for source in config["source_paths"]:
        for path in sorted((root / source).rglob("*.py")):
            relative = str(path.relative_to(root))
            if not any(fnmatch.fnmatch(relative, g) for g in config.get("do_not_mutate", [])):
                files.append(path)
    return files


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _digest(node: ast.AST) -> str:
    return hashlib.sha256(ast.dump(node, include_attributes=False).encode()).hexdigest()[:16]


def function_hashes(root: Path = ROOT) -> dict[str, str]:
    """``{"<module>.<mutmut function name>": hash}`` for every function mutmut can mutate."""
    hashes = {}
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for path in mutated_files(root):
        module = _module_name(path, root)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, functions):
                hashes[f"{module}.x_{node.name}"] = _digest(node)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, functions):
                        hashes[f"{module}.xǁ{node.name}ǁ{item.name}"] = _digest(item)
    return hashes


def function_of(mutant: str) -> str:
    """The function key of a mutant name: ``poolref.m.x_f__mutmut_3`` -> ``poolref.m.x_f``."""
    return mutant.rsplit("__mutmut_", 1)[0]


# ---- mutmut's results ---------------------------------------------------------------------------


def mutmut_verdicts(mutants_dir: Path = MUTANTS) -> dict[str, str]:
    """Every mutant's verdict from mutmut's ``*.meta`` files (``not checked`` if it did not run)."""
    from mutmut.stats import status_by_exit_code  # mutmut's own reading of its exit codes

    verdicts = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            verdicts[name] = status_by_exit_code[code]
    return verdicts


def run_mutmut(names: list[str], children: int, log: Path) -> float:
    """Run mutmut (all mutants when ``names`` is empty) in the mutation profile; seconds taken.

    Exits (status 1, with the end of mutmut's log) when mutmut fails: the suite failing on the
    unmutated code ("Failed to run clean test") is the first thing a broken line causes.
    """
    _require_no_numba()
    env = dict(os.environ, POOLREF_PROFILE="mutation")
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    command = [mutmut, "run", "--max-children", str(children), *names]
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").replace("\r", "\n").splitlines()[-40:]
        print("\n".join(tail))
        print(f"mutmut failed (exit {done.returncode}); its log: {log}")
        sys.exit(1)
    return time.monotonic() - started


def _require_no_numba() -> None:
    """Exit (status 1) when numba is installed: the mutation run needs a Python without it.

    Without numba the jit kernels are plain Python (poolref/_jit_compat.py), which is what the
    record measures; with numba they would be compiled from mutmut's trampolines, which numba
    cannot compile, and the score would depend on an optional peer.
    """
    if importlib.util.find_spec("numba") is not None:
        print(
            f"numba is installed in {sys.prefix}: run the mutation gate from a venv without it "
            '(python3 -m venv .venv-gate && .venv-gate/bin/pip install -e ".[test,mutation]"; '
            "docs/mutation.md)"
        )
        sys.exit(1)


def equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """``{mutant: reason}`` from the table rows of ``mutmut-equivalent.md``.

    A row is ``| `name`, `name` | reason |``: full mutant names in the first cell.
    """
    reasons = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2:
            for name in MUTANT_NAME.findall(cells[0]):
                reasons[name] = cells[1]
    return reasons


# ---- the record ---------------------------------------------------------------------------------


def load_record(path: Path = RECORD) -> dict:
    return json.loads(path.read_text())


def write_record(record: dict, path: Path = RECORD) -> None:
    """Write the record with one line per function and per mutant (readable diffs)."""
    record["summary"] = summary(record)
    head = {k: v for k, v in record.items() if k not in ("functions", "mutants")}
    lines = json.dumps(head, indent=1, ensure_ascii=False)[:-2].splitlines()
    for key in ("functions", "mutants"):
        items = sorted(record[key].items())
        body = [f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in items]
        lines[-1] += ","
        lines += [f' "{key}": {{', ",\n".join(body), " }"]
    path.write_text("\n".join(lines) + "\n}\n")


def summary(record: dict) -> dict[str, int]:
    """Counts of the current verdicts, and the full run's."""
    counts: dict[str, int] = {}
    for entry in record["mutants"].values():
        counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
        key = "full run " + entry["full_run"]
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def score(record: dict, verdict: str = "verdict") -> tuple[int, int]:
    """(killed, scored) over the record: skipped mutants are not scored, all else is."""
    skip = ("skipped", "not in the full run")
    entries = [e[verdict] for e in record["mutants"].values() if e[verdict] not in skip]
    return sum(v in KILLED for v in entries), len(entries)


def fold(record: dict, verdicts: dict[str, str], hashes: dict[str, str], note: str) -> int:
    """Put re-run verdicts into the record (with the functions' current hashes); how many."""
    changed = 0
    for name, verdict in verdicts.items():
        function = function_of(name)
        if verdict == "not checked" or function not in hashes:
            continue
        record["functions"][function] = hashes[function]
        entry = record["mutants"].setdefault(name, {"full_run": "not in the full run"})
        previous, entry["verdict"] = entry.get("verdict"), verdict
        if verdict != previous and verdict != entry["full_run"]:
            entry["note"] = note  # a verdict that did not change keeps its note
        changed += 1
    return changed


def prune(record: dict, generated: set[str]) -> None:
    """Drop the recorded mutants that mutmut no longer generates (their code changed or went)."""
    live = {function_of(n) for n in generated}
    for name in [n for n in record["mutants"] if function_of(n) in live and n not in generated]:
        del record["mutants"][name]


def changed_functions(record: dict, hashes: dict[str, str]) -> list[str]:
    """Functions whose source hash differs from the record's, or that the record lacks."""
    return sorted(f for f, h in hashes.items() if record["functions"].get(f) != h)


def sample(record: dict, changed: list[str], size: int, seed: int) -> list[str]:
    """A seeded random sample of the recorded mutants of unchanged functions.

    Listed equivalents are left out: they do not count in the score, and as survivors they are
    the dearest to run (every test that covers them runs to the end).
    """
    skip, listed = set(changed), equivalents()
    pool = sorted(
        n
        for n, e in record["mutants"].items()
        if function_of(n) not in skip and e["verdict"] != "skipped" and n not in listed
    )
    return sorted(random.Random(seed).sample(pool, min(size, len(pool))))


# ---- commands -----------------------------------------------------------------------------------


def cmd_refresh(args: argparse.Namespace) -> int:
    """Full run on the working tree (or read the finished one in mutants/), then a new record."""
    seconds = None
    if not args.from_existing:
        shutil.rmtree(MUTANTS, ignore_errors=True)
        seconds = run_mutmut([], args.max_children, Path(args.log))
    verdicts, hashes = mutmut_verdicts(), function_hashes()
    if not verdicts or "not checked" in verdicts.values():
        print(f"the full run is missing or unfinished (see {args.log})")
        return 1
    unknown = sorted({function_of(n) for n in verdicts} - set(hashes))
    if unknown:
        print(f"mutants of functions with no hash: {unknown}")
        return 1
    record = {
        "about": "full mutmut run of poolref/ (tools/mutation_gate.py, docs/mutation.md)",
        "command": "python tools/mutation_gate.py refresh",
        "commit": _git("rev-parse", "HEAD"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "duration_s": round(seconds) if seconds is not None else args.duration,
        "mutmut": _version("mutmut"),
        "hypothesis": _version("hypothesis"),
        "functions": hashes,  # all of them: a function with no mutant is recorded too
        "mutants": {n: {"verdict": v, "full_run": v} for n, v in verdicts.items()},
    }
    write_record(record)
    killed, scored = score(record)
    print(f"full run: {killed}/{scored} = {killed / scored:.1%}")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    """The incremental gate: every mutant of the changed functions, plus the sample."""
    record, hashes = load_record(), function_hashes()
    changed = changed_functions(record, hashes)
    chosen = sample(record, changed, args.sample, args.seed)
    patterns = [f"{f}__mutmut_*" for f in changed] + chosen
    print(f"changed since the record ({record['commit'][:12]}): {len(changed)} functions")
    for function in changed:
        print(f"  {function}")
    print(f"sample: {len(chosen)} mutants of unchanged functions (seed {args.seed})")
    shutil.rmtree(MUTANTS, ignore_errors=True)
    seconds = run_mutmut(patterns, args.max_children, Path(args.log))
    verdicts = mutmut_verdicts()
    ran = {n: v for n, v in verdicts.items() if v != "not checked"}
    print(f"mutmut ran {len(ran)} mutants in {seconds:.0f} s (log: {args.log})")
    ok = _judge_changed(ran, changed) & _judge_sample(ran, chosen, args.min_rate)
    if args.update:
        folded = fold(record, verdicts, hashes, f"gate run {time.strftime('%Y-%m-%d')}")
        prune(record, set(verdicts))
        record["functions"] = hashes  # changed functions without mutants too; deleted ones go
        gone = [n for n in record["mutants"] if function_of(n) not in hashes]
        for name in gone:
            del record["mutants"][name]
        write_record(record)
        print(f"record updated: {folded} verdicts")
    return 0 if ok else 1


def _judge_changed(ran: dict[str, str], changed: list[str]) -> bool:
    listed, functions = equivalents(), set(changed)
    mine = {n: v for n, v in ran.items() if function_of(n) in functions}
    bad = sorted(n for n, v in mine.items() if v not in KILLED and n not in listed)
    killed = sum(v in KILLED for v in mine.values())
    print(f"changed functions: {len(mine)} mutants, {killed} killed, {len(bad)} unexplained")
    for name in bad:
        print(f"  {ran[name]}: {name}  (mutmut show {name})")
    if bad:
        print("each must be killed by a test or listed with its reason in mutmut-equivalent.md")
    missing = sorted(functions - {function_of(n) for n in ran})
    if missing:
        print(f"  ({len(missing)} changed functions have no mutant: {', '.join(missing[:8])})")
    return not bad


def _judge_sample(ran: dict[str, str], chosen: list[str], min_rate: float) -> bool:
    listed = equivalents()
    scored = [n for n in chosen if n not in listed]
    not_run = [n for n in scored if n not in ran]
    killed = sum(ran.get(n) in KILLED for n in scored)
    rate = killed / len(scored) if scored else 1.0
    print(f"sample: {killed}/{len(scored)} non-equivalent mutants killed = {rate:.1%}")
    for name in scored:
        if ran.get(name) not in KILLED:
            print(f"  {ran.get(name, 'not run')}: {name}")
    if not_run:
        print(f"  {len(not_run)} sampled mutants did not run: mutmut no longer generates them")
    return rate >= min_rate and not not_run


def cmd_rerun(args: argparse.Namespace) -> int:
    """Re-run named mutants (after a new test) and update their verdicts in the record.

    With ``--notes-from FILE``, the names and notes are its lines ``NAME killed by TEST``.
    """
    record, hashes = load_record(), function_hashes()
    notes = dict.fromkeys(args.names, args.note)
    if args.notes_from:
        text = Path(args.notes_from).read_text()
        notes |= {
            m[1]: m[2] for m in re.finditer(rf"({MUTANT_NAME.pattern}) (killed by \S+)", text)
        }
    shutil.rmtree(MUTANTS, ignore_errors=True)
    run_mutmut(sorted(notes), args.max_children, Path(args.log))
    verdicts = mutmut_verdicts()
    for name in sorted(notes):
        print(f"{verdicts.get(name, 'not generated')}: {name}")
        if verdicts.get(name) not in (None, "not checked"):
            fold(record, {name: verdicts[name]}, hashes, notes[name])
    prune(record, set(verdicts))
    write_record(record)
    return 0


def cmd_survivors(args: argparse.Namespace) -> int:
    """The full run's survivors as the Markdown table docs/mutation.md shows."""
    print(survivors_table(load_record(), equivalents()), end="")
    return 0


def survivors_table(record: dict, listed: dict[str, str]) -> str:
    """The Markdown table of the full run's survivors, each with its reason or its killer."""
    rows = ["| mutant | full run | now | why |", "|---|---|---|---|"]
    for name, entry in record["mutants"].items():
        if entry["full_run"] in KILLED | {"skipped", "not in the full run"}:
            continue
        if entry["verdict"] in KILLED:
            why = entry.get("note", "")
        else:
            why = "equivalent: " + listed[name] if name in listed else "**unexplained**"
        rows.append(f"| `{name}` | {entry['full_run']} | {entry['verdict']} | {why} |")
    return "\n".join(rows) + "\n"


def cmd_changed(args: argparse.Namespace) -> int:
    for function in changed_functions(load_record(), function_hashes()):
        print(function)
    return 0


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("refresh", "gate", "rerun", "survivors", "changed"):
        p = sub.add_parser(name, help=globals()[f"cmd_{name}"].__doc__)
        p.set_defaults(run=globals()[f"cmd_{name}"])
        p.add_argument("--max-children", type=int, default=2)
        p.add_argument("--log", default="/tmp/mutmut.log")
    sub.choices["gate"].add_argument("--sample", type=int, default=SAMPLE)
    sub.choices["gate"].add_argument("--seed", type=int, default=SEED)
    sub.choices["gate"].add_argument("--min-rate", type=float, default=MIN_RATE)
    sub.choices["gate"].add_argument("--update", action="store_true")
    sub.choices["refresh"].add_argument(
        "--from-existing", action="store_true", help="record the finished run in mutants/"
    )
    sub.choices["refresh"].add_argument("--duration", type=int, help="its length in seconds")
    sub.choices["rerun"].add_argument("names", nargs="*")
    sub.choices["rerun"].add_argument("--notes-from", help="lines: NAME killed by TEST")
    sub.choices["rerun"].add_argument("--note", default="killed by a test added after the full run")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
