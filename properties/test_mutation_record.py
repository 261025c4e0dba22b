"""The mutation record (docs/mutation-record.json) and the incremental gate of tools/mutation_gate.py.

The record is the last full mutmut run; CI re-runs only the changed functions' mutants and a
sample (docs/mutation.md). These tests keep the record honest (every survivor explained, the
score, the docs' table) and check the gate's own logic on small made-up trees.
"""

import importlib.util
import json
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_gate", ROOT / "tools" / "mutation_gate.py")
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)

RECORD = gate.load_record()
LISTED = gate.equivalents()


def test_the_recorded_full_run_scores_at_least_95_percent():
    killed, scored = gate.score(RECORD, "full_run")
    assert scored > 3000, scored
    now_killed, now_scored = gate.score(RECORD)
    assert now_killed / now_scored >= 0.95, (now_killed, now_scored)
    assert killed / scored >= 0.95, (killed, scored)


def test_every_survivor_is_killed_by_a_named_test_or_listed_as_equivalent():
    for name, entry in RECORD["mutants"].items():
        if entry["verdict"] in gate.KILLED or entry["verdict"] == "skipped":
            if entry["full_run"] not in (*gate.KILLED, "skipped", "not in the full run"):
                test = re.search(r"properties/(test_\w+\.py)::(\w+)", entry.get("note", ""))
                assert test, f"{name}: killed since the full run, but by which test?"
                source = (ROOT / "properties" / test[1]).read_text()
                assert f"def {test[2]}(" in source, f"{name}: {test[0]} does not exist"
        else:
            assert name in LISTED, f"{name} ({entry['verdict']}) is neither killed nor listed"


def test_the_equivalents_list_names_only_mutants_of_the_record():
    stale = sorted(set(LISTED) - set(RECORD["mutants"]))
    assert not stale, f"mutmut-equivalent.md lists mutants the record does not have: {stale}"
    killed = sorted(n for n in LISTED if RECORD["mutants"][n]["verdict"] in gate.KILLED)
    assert not killed, f"listed as equivalent, but a test kills them: {killed}"


def test_docs_list_every_survivor_of_the_full_run():
    table = gate.survivors_table(RECORD, LISTED)
    assert "**unexplained**" not in table
    assert table in (ROOT / "docs" / "mutation.md").read_text(), (
        "docs/mutation.md's survivors table is out of date: python tools/mutation_gate.py survivors"
    )


# ---- the gate's logic, on a made-up tree --------------------------------------------------------


def _tree(tmp_path: Path, source: str) -> Path:
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["pkg/"]\ndo_not_mutate = ["pkg/skip.py"]\n'
    )
    (tmp_path / "pkg" / "mod.py").write_text(textwrap.dedent(source))
    (tmp_path / "pkg" / "skip.py").write_text("def f():\n    return 1\n")
    return tmp_path


SOURCE = """
def f(a):
    return a + 1


class C:
    def m(self):
        return 2
"""


def test_function_hashes_follow_the_code_not_its_formatting(tmp_path):
    before = gate.function_hashes(_tree(tmp_path, SOURCE))
    assert set(before) == {"pkg.mod.x_f", "pkg.mod.xǁCǁm"}  # skip.py is not mutated
    reformatted = SOURCE.replace("return a + 1", "return (a +  1)  # a comment")
    assert gate.function_hashes(_tree(tmp_path, reformatted)) == before
    after = gate.function_hashes(_tree(tmp_path, SOURCE.replace("a + 1", "a + 2")))
    assert after["pkg.mod.x_f"] != before["pkg.mod.x_f"]
    assert after["pkg.mod.xǁCǁm"] == before["pkg.mod.xǁCǁm"]


def _record(functions: dict[str, str], per_function: int = 10) -> dict:
    mutants = {
        f"{f}__mutmut_{i}": {"verdict": "killed", "full_run": "killed"}
        for f in functions
        for i in range(1, per_function + 1)
    }
    return {"functions": dict(functions), "mutants": mutants}


def test_changed_and_new_functions_are_found_and_left_out_of_the_sample():
    record = _record({"p.x_a": "1", "p.x_b": "2", "p.x_c": "3"})
    changed = gate.changed_functions(record, {"p.x_a": "1", "p.x_b": "9", "p.x_new": "4"})
    assert changed == ["p.x_b", "p.x_new"]
    chosen = gate.sample(record, changed, 12, seed=1)
    assert len(chosen) == 12 and not any(n.startswith("p.x_b_") for n in chosen)
    assert chosen == gate.sample(record, changed, 12, seed=1)  # seeded
    assert chosen != gate.sample(record, changed, 12, seed=2)


def test_listed_equivalents_are_left_out_of_the_sample(monkeypatch):
    record = _record({"p.x_a": "1", "p.x_b": "2"}, per_function=3)
    listed = {"p.x_a__mutmut_1": "why", "p.x_b__mutmut_3": "why"}
    monkeypatch.setattr(gate, "equivalents", lambda: listed)
    chosen = gate.sample(record, [], 10, seed=1)
    assert len(chosen) == 4 and not set(chosen) & set(listed)


def test_a_survivor_in_a_changed_function_fails_unless_listed(monkeypatch):
    ran = {"p.x_b__mutmut_1": "killed", "p.x_b__mutmut_2": "survived"}
    monkeypatch.setattr(gate, "equivalents", dict)
    assert not gate._judge_changed(ran, ["p.x_b"])
    monkeypatch.setattr(gate, "equivalents", lambda: {"p.x_b__mutmut_2": "why"})
    assert gate._judge_changed(ran, ["p.x_b"])


def test_the_sample_fails_under_95_percent_and_when_a_sampled_mutant_did_not_run(monkeypatch):
    monkeypatch.setattr(gate, "equivalents", dict)
    chosen = [f"p.x_a__mutmut_{i}" for i in range(20)]
    ran = dict.fromkeys(chosen, "killed")
    assert gate._judge_sample(ran, chosen, 0.95)
    assert gate._judge_sample({**ran, chosen[0]: "survived"}, chosen, 0.95)  # 19/20 = 95%
    assert not gate._judge_sample(
        {**ran, chosen[0]: "survived", chosen[1]: "timeout"}, chosen, 0.95
    )
    assert not gate._judge_sample({n: v for n, v in ran.items() if n != chosen[0]}, chosen, 0.95)


def test_fold_updates_one_verdict_and_prune_drops_the_vanished_mutants():
    record = _record({"p.x_a": "1"}, per_function=3)
    verdicts = {"p.x_a__mutmut_1": "killed", "p.x_a__mutmut_2": "survived"}
    gate.fold(record, {"p.x_a__mutmut_2": "survived"}, {"p.x_a": "7"}, "gate run")
    assert len(record["mutants"]) == 3  # folding one verdict touches only that mutant
    gate.prune(record, {**verdicts, "p.x_b__mutmut_1": "killed"})
    assert record["functions"]["p.x_a"] == "7"
    assert set(record["mutants"]) == {"p.x_a__mutmut_1", "p.x_a__mutmut_2"}
    assert record["mutants"]["p.x_a__mutmut_2"] == {
        "verdict": "survived",
        "full_run": "killed",
        "note": "gate run",
    }


def test_the_record_file_round_trips(tmp_path):
    record = _record({"p.x_a": "1", "p.xǁCǁm": "2"}, per_function=2)
    record["commit"] = "abc"
    path = tmp_path / "record.json"
    gate.write_record(record, path)
    assert json.loads(path.read_text()) == record
    assert len(path.read_text().splitlines()) > len(record["mutants"])  # one line per mutant


def test_verdicts_are_read_from_mutmuts_meta_files(tmp_path):
    pytest.importorskip("mutmut")
    exits = {"p.x_a__mutmut_1": 1, "p.x_a__mutmut_2": 0, "p.x_a__mutmut_3": None}
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py.meta").write_text(json.dumps({"exit_code_by_key": exits}))
    assert gate.mutmut_verdicts(tmp_path) == {
        "p.x_a__mutmut_1": "killed",
        "p.x_a__mutmut_2": "survived",
        "p.x_a__mutmut_3": "not checked",
    }
