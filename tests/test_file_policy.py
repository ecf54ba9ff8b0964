"""The file policy (twostep/files/__init__.py), rule by rule, and every writer following it.

1. A run's own files are never an ``--out`` of another command.
2. A name joins the tool's list only after its file is whole on disk.
3. The list survives names with any character, and concurrent writers.
4. Nothing is vouched for by a guess: only the list says a file is the tool's.
5. Every writer the package offers follows the policy.

The new names are imported inside the tests, so that this module also runs (and fails) on
code that predates the policy.
"""

import errno
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from helpers import tiny, write_tiny_yaml

from twostep.errors import TwostepError
from twostep.files import owned as owned_module
from twostep.files.owned import MANIFEST, write_owned
from twostep.interfaces.cli import main
from twostep.runs.store import train_run


def _write(text):
    return lambda path: path.write_text(text)


def listed(folder):
    """The names on ``folder``'s list, whatever its format."""
    return set(owned_module.listed(folder))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished tiny run that keeps snapshots (tests copy it before changing it)."""
    folder = tmp_path_factory.mktemp("policy") / "run"
    train_run(tiny(snapshot_every=3), folder, device="cpu", progress=False)
    return folder


@pytest.fixture
def run_copy(run, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return copy


def _digests(folder):
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------ rule 1: a run's files are never an --out
@pytest.mark.parametrize("name", ["checkpoint.pt", "config.yaml", "metrics.csv",
                                  "snapshots/update-00003.pt", MANIFEST, ".twostep-lock",
                                  "snapshots/new.csv", "trials-new.csv"])
def test_rule_1_nothing_in_a_run_folder_is_an_out(run_copy, name):
    before = _digests(run_copy)
    with pytest.raises(TwostepError, match="run folder|the tool's own"):
        write_owned(run_copy / name, _write("x"))
    assert _digests(run_copy) == before


def test_rule_1_a_runs_files_are_refused_whatever_path_names_them(run_copy, tmp_path):
    (tmp_path / "link").symlink_to(run_copy)
    before = _digests(run_copy)
    for path in (tmp_path / "link" / "checkpoint.pt", run_copy / "snapshots" / ".." /
                 "config.yaml", tmp_path / "link" / "snapshots" / "update-00003.pt"):
        with pytest.raises(TwostepError):
            write_owned(path, _write("x"))
    assert _digests(run_copy) == before


def test_rule_1_the_check_is_its_own_function(run_copy, tmp_path):
    check = owned_module.check_not_in_run_folder
    with pytest.raises(TwostepError, match="inside the run folder"):
        check(run_copy / "trials-mine.csv")
    assert check(tmp_path / "elsewhere.csv") == tmp_path / "elsewhere.csv"


# ------------------------------------------------ rule 2: listed only once whole on disk
def test_rule_2_a_name_joins_the_list_only_after_its_file_is_whole(tmp_path):
    seen = {}

    def writer(path):
        path.write_text("data")
        seen["during"] = listed(tmp_path)

    write_owned(tmp_path / "t.csv", writer)
    assert "t.csv" not in seen["during"]
    assert "t.csv" in listed(tmp_path)


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()])
def test_rule_2_a_failed_write_leaves_no_name_behind(tmp_path, failure):
    def half_then_fail(path):
        path.write_text("half")
        raise failure

    with pytest.raises((TwostepError, OSError, KeyboardInterrupt)):
        write_owned(tmp_path / "t.csv", half_then_fail)
    assert "t.csv" not in listed(tmp_path)
    (tmp_path / "t.csv").write_text("the user's, written later")
    with pytest.raises(TwostepError, match="not written by twostep"):
        write_owned(tmp_path / "t.csv", _write("ours"))
    assert (tmp_path / "t.csv").read_text() == "the user's, written later"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != MANIFEST) == ["t.csv"]


def test_rule_2_record_refuses_a_name_whose_file_is_not_there(tmp_path):
    with pytest.raises(TwostepError, match="not a whole file"):
        owned_module.record(tmp_path, "missing.csv")


# ------------------------------------------------ rule 3: any character, any number of writers
ODD_NAMES = ["a\nb.csv", "line\rfeed.csv", "tab\there.csv", "quote\"s.csv", "back\\slash.csv",
             "ünïcødé-✓.csv", "x" * 240 + ".csv", "non-utf8-\udcff.csv", " lead.csv", "{}.csv",
             '["run", "config.yaml"]']


@pytest.mark.parametrize("name", ODD_NAMES)
def test_rule_3_a_name_with_any_character_is_one_entry(tmp_path, name):
    write_owned(tmp_path / name, _write("ours"))
    assert listed(tmp_path) == {name}
    write_owned(tmp_path / name, _write("ours again"))  # ours: replaced
    assert (tmp_path / name).read_text() == "ours again"
    for part in name.splitlines():  # a newline never makes two entries
        if part != name:
            (tmp_path / part).write_text("the user's")
            with pytest.raises(TwostepError, match="not written by twostep"):
                write_owned(tmp_path / part, _write("ours"))


def test_rule_3_concurrent_writers_lose_no_entry(tmp_path):
    script = ("import sys\nfrom pathlib import Path\nfrom twostep.files.owned import write_owned\n"
              "folder, me = Path(sys.argv[1]), sys.argv[2]\n"
              "for i in range(25):\n"
              "    write_owned(folder / f'{me}-{i}.csv', lambda p: p.write_text('x'))\n")
    processes = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), f"w{k}"])
                 for k in range(6)]
    assert [p.wait(timeout=120) for p in processes] == [0] * 6
    expected = {f"w{k}-{i}.csv" for k in range(6) for i in range(25)}
    assert listed(tmp_path) == expected
    for name in expected:  # and the tool may replace each of its own files
        write_owned(tmp_path / name, _write("again"))


def test_rule_3_a_list_in_the_earlier_format_is_read_and_kept(tmp_path):
    (tmp_path / "old.csv").write_text("ours")
    (tmp_path / MANIFEST).write_text("old.csv\nsummary.csv\n")
    assert listed(tmp_path) == {"old.csv", "summary.csv"}
    write_owned(tmp_path / "old.csv", _write("ours again"))
    write_owned(tmp_path / "new.csv", _write("new"))
    assert listed(tmp_path) == {"old.csv", "summary.csv", "new.csv"}
    assert (tmp_path / MANIFEST).read_text().startswith("twostep-files 2\n")
    run = tmp_path / "old-run"  # a run folder of the earlier format is still one
    run.mkdir()
    (run / MANIFEST).write_text("checkpoint.pt\nconfig.yaml\nmetrics.csv\n")
    with pytest.raises(TwostepError, match="inside the run folder"):
        write_owned(run / "trials-mine.csv", _write("x"))


def test_rule_3_the_list_is_never_written_through_a_link_or_into_a_fifo(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("someone's file\n")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / MANIFEST).symlink_to(target)
    with pytest.raises(TwostepError, match="not a regular file"):
        write_owned(folder / "t.csv", _write("x"))
    assert target.read_text() == "someone's file\n"
    fifo_folder = tmp_path / "fifo"
    fifo_folder.mkdir()
    os.mkfifo(fifo_folder / MANIFEST)
    with pytest.raises(TwostepError, match="not a regular file"):  # and it does not hang
        write_owned(fifo_folder / "t.csv", _write("x"))


# ------------------------------------------------ rule 4: nothing vouched for by a guess
def test_rule_4_a_users_table_in_a_run_folder_is_not_vouched_for(run_copy):
    mine = run_copy / "trials-mine.csv"
    mine.write_text("my own analysis\n")
    with pytest.raises(TwostepError):
        write_owned(mine, _write("x"))
    assert mine.read_text() == "my own analysis\n"


def test_rule_4_a_folder_without_a_list_vouches_for_nothing(tmp_path):
    folder = tmp_path / "looks-like-a-run"
    folder.mkdir()
    for name in ("checkpoint.pt", "config.yaml", "metrics.csv", "trials.csv"):
        (folder / name).write_text("the user's")
    for name in ("trials.csv", "trials-x.csv", "metrics.csv"):
        assert not owned_module.owned(folder / name) or not (folder / name).exists()
    with pytest.raises(TwostepError, match="not written by twostep"):
        write_owned(folder / "trials.csv", _write("x"))


def test_rule_4_a_symlink_is_never_replaced(tmp_path):
    write_owned(tmp_path / "ours.csv", _write("ours"))
    (tmp_path / "link.csv").symlink_to(tmp_path / "ours.csv")
    with pytest.raises(TwostepError, match="not written by twostep"):
        write_owned(tmp_path / "link.csv", _write("x"))
    assert (tmp_path / "link.csv").is_symlink()


# ------------------------------------------------ rule 5: every writer follows the policy
def _writers(tmp_path, run_copy):
    """(label, folder, name, action): each writes ``folder/name``."""
    from twostep.interfaces.envs import TrialRecorder, TwoStepEnv
    from twostep.runs.store import evaluate_or_load

    def record_and_write(path):
        env, recorder = TwoStepEnv("wang2018"), TrialRecorder()
        env.reset(seed=0)
        for _ in range(100):
            recorder.record(env.step(0)[4])
        recorder.to_csv(path)

    out = tmp_path / "out"
    out.mkdir()
    config = write_tiny_yaml(tmp_path)
    return [
        ("library write_owned", out, "w.csv", lambda: write_owned(out / "w.csv", _write("x"))),
        ("evaluate --out", out, "e.csv",
         lambda: _ok(main(["evaluate", str(run_copy), "--out", str(out / "e.csv")]))),
        ("evaluate (the run's table)", run_copy, "trials.csv",
         lambda: _ok(main(["evaluate", str(run_copy)]))),
        ("evaluate_or_load", run_copy, "trials.csv", lambda: evaluate_or_load(run_copy)),
        ("simulate", out, "s.csv", lambda: _ok(main(["simulate", "wang2018", "--agent", "random",
                                                       "--episodes", "2", "--out",
                                                       str(out / "s.csv")]))),
        ("train --out", out, "config.yaml",
         lambda: _ok(main(["train", str(config), "--out", str(out)]))),
        ("Gymnasium TrialRecorder", out, "rec.csv", lambda: record_and_write(out / "rec.csv")),
        ("reproduce summary", out, "summary.csv",
         lambda: _ok(main(["reproduce", "--experiments", str(config), "--out", str(out),
                           "--device", "cpu"]))),
        ("reproduce figure", out, "learning_curves.png",
         lambda: _ok(main(["reproduce", "--experiments", str(config), "--out", str(out),
                           "--device", "cpu"]))),
    ]


def _ok(status):
    if status != 0:
        raise TwostepError(f"exit {status}")


@pytest.mark.parametrize("label", ["library write_owned", "evaluate --out",
                                   "evaluate (the run's table)", "evaluate_or_load", "simulate",
                                   "train --out", "Gymnasium TrialRecorder", "reproduce summary",
                                   "reproduce figure"])
def test_rule_5_every_writer_keeps_a_users_file_and_lists_what_it_wrote(
        tmp_path, run_copy, label, monkeypatch, capsys):
    pytest.importorskip("gymnasium")
    monkeypatch.setenv("TWOSTEP_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)
    _, folder, name, action = next(w for w in _writers(tmp_path, run_copy) if w[0] == label)
    (folder / name).unlink(missing_ok=True)
    if (folder / MANIFEST).is_file():  # forget the file, as if the user had put it there
        kept = [line for line in (folder / MANIFEST).read_text().split("\n")
                if line and name not in line]
        (folder / MANIFEST).write_text("\n".join(kept) + "\n")
    (folder / name).write_text("the user's own\n")
    if label == "evaluate_or_load":  # the cache neither reads nor replaces it, and says so
        with pytest.warns(UserWarning, match="not written by twostep"):
            assert len(action()) == 2 * 5 * 100
    else:
        with pytest.raises((TwostepError, SystemExit)):
            action()
    assert (folder / name).read_text() == "the user's own\n"
    (folder / name).unlink()
    action()
    assert name in listed(folder)
    capsys.readouterr()


def test_rule_5_the_policy_is_written_in_the_file_layer():
    import twostep.files as files

    for rule in ("never an --out", "whole on disk", "any character", "guess", "Every writer"):
        assert rule in files.__doc__
    for function in ("check_not_in_run_folder", "record", "listed", "owned", "write_owned",
                     "write_run_file"):
        assert function in files.__doc__ and callable(getattr(owned_module, function))


# ------------------------------------------------ atomic writes: names and leftovers
def test_a_long_name_is_written_even_though_its_temporary_name_is_longer(tmp_path):
    name = "x" * 250 + ".csv"  # 254 bytes: a valid name; a temporary name beside it is not
    write_owned(tmp_path / name, _write("ours"))
    assert (tmp_path / name).read_text() == "ours"


def test_temporary_files_of_dead_processes_are_cleared_by_the_next_run(tmp_path):
    from twostep.files.write import remove_stale_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".checkpoint.twostep-{dead}-0a1b2c.tmp.pt"
    stale.write_text("half")
    alive = tmp_path / f".checkpoint.twostep-{os.getpid()}-0a1b2c.tmp.pt"
    alive.write_text("being written")
    users = tmp_path / f".my.{dead}.tmp.txt"
    users.write_text("not ours")
    remove_stale_temporaries(tmp_path)
    assert not stale.exists() and alive.exists() and users.exists()


def test_the_list_is_json_lines_after_a_header(tmp_path):
    write_owned(tmp_path / "a\nb.csv", _write("x"))
    header, *lines = (tmp_path / MANIFEST).read_text().splitlines()
    assert header.startswith("twostep-files")
    assert [json.loads(line) for line in lines] == [["output", "a\nb.csv"]]


def test_the_tool_replaces_only_its_own_outputs_in_an_output_folder(tmp_path):
    write_owned(tmp_path / "t.csv", _write("1"))
    write_owned(tmp_path / "t.csv", _write("2"))
    assert (tmp_path / "t.csv").read_text() == "2"
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "user.csv")
    with pytest.raises(TwostepError, match="not written by twostep"):
        write_owned(tmp_path / "user.csv", _write("3"))
