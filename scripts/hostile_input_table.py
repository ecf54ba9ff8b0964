"""Run every hostile-input case through the command line; print a Markdown table.

    PYTHONPATH=. python scripts/hostile_input_table.py [WORK_FOLDER] > table.md

Each row: the case, the command, its exit status, the one line it printed (stderr without
progress bars; stdout when stderr is empty), whether any file that existed before it changed
(and which), and the seconds it took. Every case is a real ``python -m twostep`` process.
Cases that need a signal send it once the process has loaded torch, printed a given text
or written a given file; cases that need something running at the same time start it in the
background. Cases that need a tiny disk mount a 2 MiB tmpfs (root only; skipped elsewhere).
A process that does not end within its limit is killed and reported as ``HUNG``.

The rounds: the first two (names, sizes, values, --out, Ctrl-C, configs, tables) and the
third (the file policy, locks on the folder's identity, decimal YAML numbers, consistent
tables, system failures, bounded reads, SIGTERM, and cases of our own). Run time: about
five to ten minutes on two cores. Not run in CI.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

TINY = ("name: tiny\ntask: {kind: two-step, trials: 20}\nmodel: {hidden_size: 8}\n"
        "train: {seeds: 2, episodes: 8, batch_size: 4, checkpoint_every: 1, eval_episodes: 3}\n")
SLOW = TINY.replace("episodes: 8", "episodes: 1000000000000000")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
HEADER = "seed,episode,trial,choice,state,common,reward,good_state"


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (links and FIFOs are not read)."""
    digests = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            try:
                if not path.is_symlink() and path.is_file():
                    digests[str(path.relative_to(folder))] = hashlib.sha256(
                        path.read_bytes()).hexdigest()
            except OSError:
                pass
    return digests


def message(err: str, out: str) -> str:
    lines = [line.strip() for line in err.replace("\r", "\n").splitlines()
             if line.strip() and "update/s" not in line and "%|" not in line]
    if any(line.startswith("Traceback") for line in lines):
        return "TRACEBACK: " + lines[-1]
    if lines:
        return lines[-1]
    printed = out.strip().splitlines()
    return printed[-1] if printed else ""


def wait_until(predicate: Callable[[], bool], timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if predicate():
                return True
        time.sleep(0.05)
    return False


def loaded_torch(process) -> bool:
    return "libtorch" in Path(f"/proc/{process.pid}/maps").read_text()


def start(work: Path, args: list[str], env: dict | None = None, new_session: bool = False):
    return subprocess.Popen([sys.executable, "-m", "twostep", *args], cwd=work,
                            env={**ENV, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=new_session)


def finish(process, timeout: float = 300.0, seen: str = "") -> tuple[int | str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return "HUNG", f"killed after {timeout:.0f} s"
    return process.returncode, message(seen + err, out)


def run(work: Path, args: list[str], *, sig: int = signal.SIGINT, after: float | None = None,
        on: str | None = None, when: Callable[[], bool] | None = None, env: dict | None = None,
        timeout: float = 300.0, group: bool = False) -> tuple[int | str, str]:
    """Run one command; with ``after``/``on``/``when``, send ``sig`` that long after torch
    loaded, once stderr shows ``on``, or once ``when()`` holds (to the process group with
    ``group``)."""
    process = start(work, args, env, new_session=group)
    seen = ""
    if on is not None:
        while on not in seen and process.poll() is None:
            seen += process.stderr.read(1)
    elif when is not None:
        wait_until(lambda: when() or process.poll() is not None)
        time.sleep(0.3)
    elif after is not None:
        wait_until(lambda: loaded_torch(process) or process.poll() is not None)
        time.sleep(after)
    if (on, when, after) != (None, None, None) and process.poll() is None:
        (os.killpg if group else os.kill)(process.pid, sig)
    return finish(process, timeout, seen)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def shown(args: list[str]) -> str:
    from twostep.files.failures import shown as one_line

    texts = [one_line(arg) for arg in args]
    return " ".join(text if len(text) < 48 else text[:45] + "..." for text in texts)


class Table:
    def __init__(self, work: Path):
        self.work = work

    def group(self, title: str) -> None:
        """Start the table of one class of cases."""
        print(f"\n## {title}\n")
        print("| case | command | exit | printed | earlier files changed | s |")
        print("|---|---|---|---|---|---|", flush=True)

    def row(self, label: str, args: list[str], status, line: str, changed: str, seconds) -> None:
        line = line.replace("|", "/").replace(str(self.work) + "/", "")[:300]
        seconds = f"{seconds:.1f}" if isinstance(seconds, float) else seconds
        print(f"| {label} | `twostep {shown(args)}` | {status} | {line} | {changed} | {seconds} |",
              flush=True)

    def case(self, label: str, args: list[str], ignore: str | None = None,
             **options) -> tuple[int | str, str]:
        """One command, one row; files under ``ignore`` (a folder another process is writing
        meanwhile) are left out of the comparison."""
        before = snapshot(self.work)
        started = time.perf_counter()
        status, line = run(self.work, args, **options)
        seconds = time.perf_counter() - started
        after = snapshot(self.work)
        changed = sorted(name for name, digest in before.items() if after.get(name) != digest
                         and not (ignore and name.startswith(ignore)))
        self.row(label, args, status, line, ", ".join(changed) or "no", seconds)
        return status, line

    def together(self, label: str, commands: list[list[str]], env: dict | None = None) -> None:
        """Start every command at once; one row each (files changed: not attributable)."""
        started = time.perf_counter()
        processes = [start(self.work, args, env) for args in commands]
        for args, process in zip(commands, processes, strict=True):
            status, line = finish(process)
            self.row(label, args, status, line, "-", time.perf_counter() - started)

    def note(self, label: str, text: str) -> None:
        print(f"| {label} | - | - | {text} | - | - |", flush=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "2m"):
    """A tmpfs of ``size`` at ``folder`` (None where it cannot be mounted)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                            str(folder)], capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def episodic_table(seeds: int = 2, episodes: int = 3, trials: int = 20):
    """A trial table of the episodic task played with random choices."""
    import torch

    from twostep.core.config import load_experiment
    from twostep.core.tasks import make_task
    from twostep.trials.frame import trial_frame

    config = load_experiment("ritter2018-episodic").task.model_copy(update={"trials": trials})
    task = make_task(config)
    task.reset((seeds, episodes), torch.Generator().manual_seed(0))
    choices = torch.Generator().manual_seed(1)
    outcomes = [task.step(torch.randint(0, 2, (seeds, episodes), generator=choices))[0]
                for _ in range(trials)]
    return trial_frame(outcomes, seeds=list(range(seeds)))


def deflated_checkpoint(run_dir: Path, target: Path) -> None:
    """A copy of ``run_dir`` whose checkpoint's first tensor unpacks to 1.5 GiB of zeros
    (about 1.5 MB on disk)."""
    shutil.copytree(run_dir, target)
    path = target / "checkpoint.pt"
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compresslevel=1) as archive:
        for info, data in entries:
            if info.filename.endswith("/data/0"):
                bomb = zipfile.ZipInfo(info.filename)
                bomb.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(bomb, "w", force_zip64=True) as out:
                    for _ in range(96):
                        out.write(bytes(2**24))
            else:
                archive.writestr(info, data)


def first_rounds(table: Table, work: Path, trials: str) -> None:
    header, *rows = trials.splitlines()

    def edited(name, column, value):
        index = header.split(",").index(column)
        cells = rows[4].split(",")
        cells[index] = value
        return write(work / f"{name}.csv", "\n".join([header, *rows[:4], ",".join(cells),
                                                      *rows[5:]]) + "\n").name

    def config(name, text):
        return write(work / f"{name}.yaml", text).name

    write(work / "a_file", "x")
    (work / "a_folder").mkdir(exist_ok=True)
    write(work / "myexp" / "config.yaml", "# my notes: keep this\n" + TINY)
    write(work / "latin1.yaml", "name: café\n".encode("latin-1"))
    write(work / "truncated.csv", trials[: len(trials) // 2])
    write(work / "short.csv", "\n".join([header, *rows[: len(rows) // 2 + 7]]) + "\n")
    write(work / "long-line.csv", header + "\n" + "0," * 5_000_000 + "\n")
    crafted = work / "crafted"
    shutil.copytree(work / "run", crafted)
    import torch

    payload = torch.load(crafted / "checkpoint.pt", weights_only=True)
    torch.save({**payload, "update": "many", "generators": ["x"]}, crafted / "checkpoint.pt")
    slow = config("slow", SLOW)
    cases: list[tuple[str, list[str], dict]] = [
        ("name: ../../x", ["train", config("up", "name: ../../x\n")], {}),
        ("name: /tmp/abs", ["train", config("abs", "name: /tmp/abs\n")], {}),
        ('name: ""', ["train", config("empty", "name: ''\n")], {}),
        ("name: .hidden", ["train", config("hidden", "name: .hidden\n")], {}),
        ("user's config.yaml in --out", ["train", "myexp/config.yaml", "--out", "myexp"], {}),
        ("evaluate, Ctrl-C mid-run", ["evaluate", "run", "--episodes", "20000"], {"after": 1.0}),
        ("analyze, Ctrl-C", ["analyze", "run/trials.csv"], {"after": 0.5}),
        ("train, Ctrl-C while torch imports", ["train", "tiny.yaml", "--out", "run-int"],
         {"after": 0.0}),
        ("YAML not UTF-8", ["train", "latin1.yaml"], {}),
        ("YAML unreadable", ["train", "/proc/self/mem"], {}),
        ("model.hidden_size: 10**7", ["train", config("h", "name: h\nmodel: {hidden_size: "
                                                          "10000000}\n")], {}),
        ("hidden_size 65536 x batch", ["train", config("hb", "name: hb\nmodel: {hidden_size: "
                                                           "65536}\ntrain: {batch_size: 4096}\n")],
         {}),
        ("task.trials: 10**8", ["train", config("t", "name: t\ntask: {trials: 100000000}\n")], {}),
        ("train.batch_size: 10**7", ["train", config("b", "name: b\ntrain: {batch_size: "
                                                         "10000000}\n")], {}),
        ("--seeds 100000", ["train", "wang2018", "--seeds", "100000", "--out", "big"], {}),
        ("--seeds 100000, run cache", ["train", "wang2018", "--seeds", "100000"],
         {"env": {"TWOSTEP_RUNS": str(work / "cache")}}),
        ("simulate --episodes 10**12", ["simulate", "wang2018", "--agent", "random",
                                        "--episodes", str(10**12), "--out", "sim.csv"], {}),
        ("evaluate --episodes 10**12", ["evaluate", "run", "--episodes", str(10**12)], {}),
        ("train.first_seed: 2**63", ["train", config("s", "name: s\ntrain: {first_seed: "
                                                         "9223372036854775808}\n")], {}),
        ("--device meta", ["train", "tiny.yaml", "--out", "m", "--device", "meta"], {}),
        ("train --out FILE", ["train", "tiny.yaml", "--out", "a_file"], {}),
        ("train --out unwritable", ["train", "tiny.yaml", "--out", "/proc/x/run"], {}),
        ("evaluate --out FOLDER", ["evaluate", "run", "--out", "a_folder"], {}),
        ("evaluate --out FILE/x.csv", ["evaluate", "run", "--out", "a_file/x.csv"], {}),
        ("evaluate --out unwritable", ["evaluate", "run", "--out", "/proc/x/t.csv"], {}),
        ("simulate --out FOLDER", ["simulate", "wang2018", "--agent", "random", "--out",
                                   "a_folder"], {}),
        ("simulate --out user file", ["simulate", "wang2018", "--agent", "random", "--out",
                                      "a_file"], {}),
        ("simulate --out unwritable", ["simulate", "wang2018", "--agent", "random", "--out",
                                       "/proc/x/t.csv"], {}),
        ("reproduce --out FILE", ["reproduce", "--out", "a_file", "--experiments", "tiny.yaml"],
         {}),
        ("reproduce --out unwritable", ["reproduce", "--out", "/proc/x", "--experiments",
                                        "tiny.yaml"], {}),
        ("analyze seed 'abc'", ["analyze", edited("seed", "seed", "abc")], {}),
        ("analyze reward 'one'", ["analyze", edited("reward-text", "reward", "one")], {}),
        ("analyze choice 2", ["analyze", edited("choice", "choice", "2")], {}),
        ("analyze reward -1", ["analyze", edited("reward", "reward", "-1")], {}),
        ("analyze common 'yes'", ["analyze", edited("common", "common", "yes")], {}),
        ("analyze common 0.5", ["analyze", edited("frac", "common", "0.5")], {}),
        ("analyze episode -3", ["analyze", edited("episode", "episode", "-3")], {}),
        ("analyze value 1_0", ["analyze", edited("underscore", "choice", "1_0")], {}),
        ("analyze truncated mid-line", ["analyze", "truncated.csv"], {}),
        ("analyze truncated at a line", ["analyze", "short.csv"], {}),
        ("analyze one 10 MB line", ["analyze", "long-line.csv"], {}),
        ("crafted checkpoint fields", ["evaluate", "crafted"], {}),
        ("trials: true", ["train", config("tb", "name: tb\ntask: {trials: true}\n")], {}),
        ("duplicate keys", ["train", config("dup", "name: a\nname: b\n")], {}),
        ("lr: .inf", ["train", config("inf", "name: inf\ntrain: {lr: .inf}\n")], {}),
        ("knn_temperature: 1e-300", ["train", config("temp", "name: temp\nmodel: {cell: eplstm, "
                                                             "knn_temperature: 1e-300}\n")], {}),
        ("lr: 1e30 (trains to NaN)", ["train", config("nan", TINY.replace(
            "checkpoint_every: 1", "checkpoint_every: 1, lr: 1.0e+30, max_grad_norm: null, "
            "rmsprop_eps: 1.0e-30")), "--out", "nan-run"], {}),
        ("10**15 episodes, Ctrl-C", ["train", slow, "--out", "slow-run"],
         {"on": "--resume\n"}),
        ("10**15 episodes, --resume, Ctrl-C", ["train", slow, "--out", "slow-run", "--resume"],
         {"on": "--resume\n"}),
    ]
    for label, args, options in cases:
        table.case(label, args, **options)

    write(work / "a.yaml", TINY.replace("episodes: 8", "episodes: 400"))
    write(work / "b.yaml", TINY.replace("episodes: 8", "episodes: 480"))
    table.together("concurrent train, one folder", [["train", "a.yaml", "--out", "both"],
                                                    ["train", "b.yaml", "--out", "both"]])
    kept = (work / "both" / "config.yaml").read_text().split("episodes: ")[1].split("\n")[0]
    table.note("concurrent train, one folder", f"both/config.yaml holds episodes: {kept}")


def file_policy(table: Table, work: Path) -> None:
    """Example 1 and 2, and cases of our own: the run's files, user files, the list."""
    run = "run"
    for name in ("checkpoint.pt", "config.yaml", "metrics.csv", ".twostep-files",
                 ".twostep-lock", "trials.csv"):
        table.case(f"3rd ex1: --out the run's {name}", ["evaluate", run, "--out",
                                                       f"{run}/{name}"])
    table.case("3rd ex1: --out a run's snapshot", ["evaluate", "snap-run", "--out",
                                                   "snap-run/snapshots/update-00002.pt"])
    table.case("3rd ex1: --out a run's snapshots/ folder", ["evaluate", run, "--out",
                                                            "snap-run/snapshots/new.csv"])
    table.case("3rd ex1: --out via a link to the run", ["evaluate", run, "--out",
                                                        "run-link/checkpoint.pt"])
    table.case("3rd ex1: --out via snapshots/..", ["evaluate", run, "--out",
                                                   "snap-run/snapshots/../config.yaml"])
    table.case("3rd: --out into another run", ["evaluate", run, "--out", "other-run/trials.csv"])
    table.case("3rd: simulate --out into a run", ["simulate", "wang2018", "--agent", "random",
                                                  "--out", "run/sim.csv"])
    table.case("3rd: reproduce --out a run folder", ["reproduce", "--experiments", "tiny.yaml",
                                                     "--out", "other-run"])
    table.case("3rd: train --out a run's snapshots", ["train", "tiny.yaml", "--out",
                                                      "snap-run/snapshots"])
    write(work / run / "trials-mine.csv", "my own analysis\n")
    table.case("3rd ex2: user's trials-mine.csv in a run", ["evaluate", run, "--out",
                                                            f"{run}/trials-mine.csv"])
    write(work / "look-alike" / "checkpoint.pt", "user's")
    write(work / "look-alike" / "config.yaml", "user's")
    write(work / "look-alike" / "trials.csv", "user's")
    table.case("3rd: a run look-alike without a list", ["simulate", "wang2018", "--agent",
                                                        "random", "--out", "look-alike/trials.csv"])
    table.case("3rd ex2: --out a name with a newline", ["simulate", "wang2018", "--agent",
                                                        "random", "--episodes", "2", "--out",
                                                        "nl/a\nb.csv"])
    write(work / "nl" / "a", "user's a\n")
    table.case("3rd ex2: then the user's 'a' beside it", ["simulate", "wang2018", "--agent",
                                                          "random", "--episodes", "2", "--out",
                                                          "nl/a"])
    table.case("3rd ex2: and again the newline name", ["simulate", "wang2018", "--agent",
                                                       "random", "--episodes", "2", "--out",
                                                       "nl/a\nb.csv"])
    names = [f"par/t{k}.csv" for k in range(4)]
    for attempt in ("first", "second"):
        table.together(f"3rd ex2: 4 writers into one folder, {attempt}",
                       [["simulate", "wang2018", "--agent", "random", "--episodes", "1", "--out",
                         name] for name in names])
    write(work / "mine.csv", "user's\n")
    (work / "link.csv").symlink_to("mine.csv")
    table.case("3rd: --out a user's symlink", ["simulate", "wang2018", "--agent", "random",
                                               "--out", "link.csv"])
    table.case("3rd: output == input", ["simulate", "tiny.yaml", "--agent", "random", "--out",
                                        "tiny.yaml"])
    table.case("3rd: --out .twostep-files", ["simulate", "wang2018", "--agent", "random",
                                             "--out", ".twostep-files"])
    os.mkfifo(work / "fifo.csv")
    table.case("3rd: --out an existing FIFO", ["simulate", "wang2018", "--agent", "random",
                                               "--out", "fifo.csv"], timeout=60)
    (work / "linked-list").mkdir()
    (work / "linked-list" / ".twostep-files").symlink_to(work / "mine.csv")
    table.case("3rd: the list is a symlink", ["simulate", "wang2018", "--agent", "random",
                                              "--out", "linked-list/t.csv"])
    (work / "fifo-list").mkdir()
    os.mkfifo(work / "fifo-list" / ".twostep-files")
    table.case("3rd: the list is a FIFO", ["simulate", "wang2018", "--agent", "random",
                                           "--out", "fifo-list/t.csv"], timeout=60)
    (work / "fifo-lock").mkdir()
    os.mkfifo(work / "fifo-lock" / ".twostep-lock")
    table.case("3rd: the lock file is a FIFO", ["train", "tiny.yaml", "--out", "fifo-lock"],
               timeout=60)
    table.case("3rd: a 254-byte name", ["simulate", "wang2018", "--agent", "random",
                                        "--episodes", "1", "--out", "x" * 250 + ".csv"])
    table.case("3rd: a 300-byte name", ["simulate", "wang2018", "--agent", "random",
                                        "--episodes", "1", "--out", "y" * 296 + ".csv"])
    table.case("3rd: a name that is not UTF-8", ["simulate", "wang2018", "--agent", "random",
                                                 "--episodes", "1", "--out",
                                                 os.fsdecode(b"t\xff.csv")])
    table.case("3rd: a name with an escape sequence", ["simulate", "wang2018", "--agent",
                                                       "random", "--episodes", "1", "--out",
                                                       "t\x1b[31mred.csv"])
    table.case("3rd: a unicode name", ["simulate", "wang2018", "--agent", "random",
                                       "--episodes", "1", "--out", "Ünïcødé ✓.csv"])
    shutil.copytree(work / run, work / "user-ckpt", ignore=shutil.ignore_patterns(".twostep-*"))
    table.case("3rd: --resume over a checkpoint not listed", ["train", "tiny.yaml", "--out",
                                                              "user-ckpt", "--resume"])


def locks(table: Table, work: Path) -> None:
    """Example 3: every name of a folder meets the same lock."""
    write(work / "a.yaml", TINY.replace("episodes: 8", "episodes: 400"))
    write(work / "b.yaml", TINY.replace("episodes: 8", "episodes: 480"))
    (work / "target").mkdir()
    (work / "target-link").symlink_to("target")
    table.together("3rd ex3: train via a link and its target", [
        ["train", "a.yaml", "--out", "target"], ["train", "b.yaml", "--out", "target-link"]])
    kept = (work / "target" / "config.yaml").read_text().split("episodes: ")[1].split("\n")[0]
    rows = len((work / "target" / "metrics.csv").read_text().splitlines()) - 1
    table.note("3rd ex3: train via a link and its target", f"target/config.yaml holds episodes: "
               f"{kept}, its metrics.csv {rows} rows")
    trainer = start(work, ["train", "slow.yaml", "--out", "busy"])
    wait_until(lambda: (work / "busy" / "checkpoint.pt").exists())
    (work / "busy-link").symlink_to("busy")
    (work / "sub").mkdir(exist_ok=True)
    for label, name in (("a link", "busy-link"), ("a trailing slash", "busy/"),
                        ("sub/..", "sub/../busy"), ("an absolute path", str(work / "busy")),
                        ("a double slash", "busy//")):
        table.case(f"3rd ex3: evaluate via {label} while training (busy/ not compared)",
                   ["evaluate", name], ignore="busy/")
    table.case("3rd ex3: train --resume via a link while training (busy/ not compared)",
               ["train", "slow.yaml", "--out", "busy-link", "--resume"], ignore="busy/")
    trainer.send_signal(signal.SIGTERM)
    status, line = finish(trainer)
    table.row("3rd ex8: SIGTERM to the trainer above", ["train", "slow.yaml", "--out", "busy"],
              status, line, "-", "-")
    table.together("3rd: two evaluates of one run at once",
                   [["evaluate", "run", "--out", "e1.csv"], ["evaluate", "run", "--out", "e2.csv"]])
    table.note("3rd: locks", "files beside run folders: " + (", ".join(
        p.name for p in work.iterdir() if p.name.endswith(".lock")) or "none"))


def numbers(table: Table, work: Path) -> None:
    """Example 4: decimal numbers only."""
    for value in ("012", "1:40", "0x10", "0b1010", "1_000", "0o12", "!!int 012", "+0012"):
        path = write(work / "numbers.yaml", f"name: n\ntask: {{trials: {value}}}\n")
        table.case(f"3rd ex4: trials: {value}", ["train", path.name, "--out", "n-run"])
    for setting in ("task.trials=012", "task.trials=1:40", "train.lr=1_0.5", "train.seeds=0x2"):
        table.case(f"3rd ex4: --set {setting}", ["train", "tiny.yaml", "--out", "n-run", "--set",
                                                setting])


def tables(table: Table, work: Path) -> None:
    """Example 5: tables that contradict themselves; bounded table reads."""
    import gzip

    frame = episodic_table()
    frame.to_csv(work / "episodic.csv", index=False)
    cued = int(frame.index[frame.cued == 1][0])

    def case(label, edit):
        changed = frame.copy()
        edit(changed)
        name = f"table-{label.split(':')[0].replace(' ', '-')}.csv"
        changed.to_csv(work / name, index=False)
        table.case(f"3rd ex5: {label}", ["analyze", name])

    case("recalls itself", lambda f: f.__setitem__("cue_trial", f.cue_trial.where(
        f.index != cued, f.trial)))
    case("recalls the future", lambda f: f.__setitem__("cue_trial", f.cue_trial.where(
        f.index != cued, f.trial + 1)))
    case("recalls a cued trial", lambda f: f.__setitem__("cue_trial", f.cue_trial.where(
        f.index != cued + 1, f.trial - 1)))
    case("recalls trial 500", lambda f: f.__setitem__("cue_trial", f.cue_trial.where(
        f.index != cued, 500)))
    case("trial twice", lambda f: f.__setitem__("trial", f.trial.where(f.index != 3, 2)))
    case("trial missing", lambda f: f.__setitem__("trial", f.trial.where(f.index != 3, 9)))
    case("common disagrees", lambda f: f.__setitem__("common", f.common.where(
        f.index != 4, 1 - f.common)))
    case("cued without a cue", lambda f: f.__setitem__("cued", f.cued.where(f.index != 4, 1)))
    case("uncued with a cue", lambda f: f.__setitem__("cue_trial", f.cue_trial.where(
        f.index != 4, 0)))
    case("cued column alone", lambda f: f.__delitem__("cue_trial"))
    table.case("3rd ex5: a consistent episodic table", ["analyze", "episodic.csv"])
    with gzip.open(work / "long.csv.gz", "wt") as file:
        file.write(HEADER + "\n" + "0," * 50_000 + "\n")
    table.case("3rd ex7: a .gz whose line is long unpacked", ["analyze", "long.csv.gz"])
    with gzip.open(work / "zeros.csv.gz", "wb", compresslevel=1) as file:
        for _ in range(64):
            file.write(bytes(2**24))
    table.case("3rd ex7: a 1 GiB gz bomb (1 MB)", ["analyze", "zeros.csv.gz"])
    with gzip.open(work / "run-table.csv.gz", "wb") as file:
        file.write((work / "run" / "trials.csv").read_bytes())
    table.case("3rd ex7: a gzipped table", ["analyze", "run-table.csv.gz"])
    write(work / "t.csv.zst", b"\x28\xb5\x2f\xfd" + bytes(20))
    table.case("3rd ex6: .zst without zstandard", ["analyze", "t.csv.zst"])
    write(work / "t.csv.tar", b"")
    table.case("3rd: a .tar table", ["analyze", "t.csv.tar"])
    os.mkfifo(work / "fifo-table.csv")
    table.case("3rd ex7: analyze a FIFO", ["analyze", "fifo-table.csv"], timeout=60)
    table.case("3rd ex7: analyze /dev/zero", ["analyze", "/dev/zero"], timeout=60)
    table.case("3rd: analyze a folder", ["analyze", "a_folder"])
    table.case("3rd: analyze a checkpoint", ["analyze", "run/checkpoint.pt"])


def reads(table: Table, work: Path) -> None:
    """Example 7: configs and checkpoints that are not what they claim."""
    os.mkfifo(work / "fifo.yaml")
    (work / "loop-a.yaml").symlink_to("loop-b.yaml")
    (work / "loop-b.yaml").symlink_to("loop-a.yaml")
    (work / "dir.yaml").mkdir()
    for label, path in (("/dev/zero", "/dev/zero"), ("a FIFO", "fifo.yaml"),
                        ("a symlink loop", "loop-a.yaml"), ("a folder", "dir.yaml"),
                        ("/dev/urandom", "/dev/urandom")):
        table.case(f"3rd ex7: config is {label}", ["train", path, "--out", "r-run"], timeout=60)
    write(work / "huge.yaml", "name: huge\n# " + "x" * 2_000_000 + "\n")
    table.case("3rd: a 2 MB config", ["train", "huge.yaml", "--out", "r-run"])
    deflated_checkpoint(work / "run", work / "bomb-run")
    table.case("3rd ex7: a deflated checkpoint (1.5 GiB unpacked)", ["evaluate", "bomb-run"])
    shutil.copytree(work / "run", work / "fifo-run")
    (work / "fifo-run" / "checkpoint.pt").unlink()
    os.mkfifo(work / "fifo-run" / "checkpoint.pt")
    table.case("3rd ex7: checkpoint is a FIFO", ["evaluate", "fifo-run"], timeout=60)
    shutil.copytree(work / "run", work / "dir-run")
    (work / "dir-run" / "checkpoint.pt").unlink()
    (work / "dir-run" / "checkpoint.pt").mkdir()
    table.case("3rd: checkpoint is a folder", ["evaluate", "dir-run"])
    shutil.copytree(work / "run", work / "edited-run")
    config = work / "edited-run" / "config.yaml"
    config.write_text(config.read_text().replace("hidden_size: 8", "hidden_size: 16"))
    table.case("3rd: config.yaml edited after training", ["evaluate", "edited-run"])
    cache = work / "fifo-cache"
    status, _ = run(work, ["train", "tiny.yaml"], env={"TWOSTEP_RUNS": str(cache)})
    [run_dir] = [p for p in cache.iterdir() if p.is_dir()]
    (run_dir / "metrics.csv").unlink()
    os.mkfifo(run_dir / "metrics.csv")
    table.case("3rd: a cached run's metrics are a FIFO", ["train", "tiny.yaml"],
               env={"TWOSTEP_RUNS": str(cache)}, timeout=60)


def evaluations(table: Table, work: Path) -> None:
    """Cases of our own: an evaluation with other options is not the run's own."""
    table.case("3rd: evaluate --episodes 3 (run keeps trials.csv)", ["evaluate", "run",
                                                                      "--episodes", "3"])
    table.case("3rd: evaluate --retrieval off", ["evaluate", "run", "--retrieval", "off"])
    table.case("3rd: evaluate a run through a link", ["evaluate", "run-link"])


def system(table: Table, work: Path) -> None:
    """Example 6: a full disk, a vanished or read-only folder, a missing package."""
    fake = work / "fake-packages" / "gymnasium"
    write(fake / "__init__.py", "raise ModuleNotFoundError(\"No module named 'gymnasium'\", "
          "name='gymnasium')\n")
    path = os.pathsep.join([str(work / "fake-packages"), os.environ.get("PYTHONPATH", "")])
    table.case("3rd ex6: bench without a working gymnasium", ["bench", "--updates", "1",
                                                              "--naive-episodes", "1",
                                                              "--env-batch", "2"],
               env={"PYTHONPATH": path})
    def vanish():
        if not (work / "vanish" / "checkpoint.pt").exists():
            return False
        (work / "vanish").rename(work / "vanished")  # as `rm -r` or `mv` would, at once
        shutil.rmtree(work / "vanished")
        return True

    table.case("3rd ex6: run folder deleted mid-run", ["train", "slow.yaml", "--out", "vanish"],
               when=vanish, sig=0)
    with small_disk(work / "disk") as disk:
        if disk is None:
            table.note("3rd ex6: full disk, read-only folder", "skipped (needs root to mount a "
                       "small tmpfs)")
            return
        write(work / "big.yaml", TINY.replace("hidden_size: 8", "hidden_size: 128")
              .replace("name: tiny", "name: big"))
        write(disk / "filler", bytes(2**20 + 2**19))
        table.case("3rd ex6: train onto a full disk", ["train", "big.yaml", "--out", "disk/run"])
        (disk / "filler").unlink()
        shutil.rmtree(disk / "run", ignore_errors=True)
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as file:
            while True:
                file.write(bytes(2**16))
        table.case("3rd ex2: simulate onto a full disk", ["simulate", "wang2018", "--agent",
                                                          "random", "--episodes", "50", "--out",
                                                          "disk/sim.csv"])
        (disk / "filler").unlink()
        write(disk / "sim.csv", "the user's, written after the failure\n")
        table.case("3rd ex2: then the user's file there", ["simulate", "wang2018", "--agent",
                                                           "random", "--episodes", "50", "--out",
                                                           "disk/sim.csv"])
        table.note("3rd ex2: disk/ holds", ", ".join(sorted(p.name for p in disk.iterdir())))

        def read_only():
            if not (disk / "ro" / "checkpoint.pt").exists():
                return False
            return subprocess.run(["mount", "-o", "remount,ro", str(disk)],
                                  capture_output=True).returncode == 0  # busy: try again

        table.case("3rd ex6: folder turned read-only mid-run", ["train", "slow.yaml", "--out",
                                                                "disk/ro"], when=read_only, sig=0)
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=False)


def signals(table: Table, work: Path) -> None:
    """Example 8: SIGTERM is an interruption."""
    table.case("3rd ex8: SIGTERM while training", ["train", "slow.yaml", "--out", "term-run"],
               sig=signal.SIGTERM, when=lambda: (work / "term-run" / "checkpoint.pt").exists())
    table.case("3rd ex8: --resume after SIGTERM, SIGTERM", ["train", "slow.yaml", "--out",
                                                            "term-run", "--resume"],
               sig=signal.SIGTERM, after=3.0)
    table.case("3rd ex8: SIGTERM while torch imports", ["train", "tiny.yaml", "--out",
                                                        "term-early"], sig=signal.SIGTERM,
               after=0.0)
    table.case("3rd ex8: SIGHUP while training", ["train", "slow.yaml", "--out", "hup-run"],
               sig=signal.SIGHUP, when=lambda: (work / "hup-run" / "checkpoint.pt").exists())
    write(work / "slow-a.yaml", SLOW.replace("name: tiny", "name: slow-a"))
    write(work / "slow-b.yaml", SLOW.replace("name: tiny", "name: slow-b")
          .replace("hidden_size: 8", "hidden_size: 9"))
    runs = work / "term-runs"
    args = ["reproduce", "--experiments", "slow-a.yaml", "slow-b.yaml", "--out", "term-results",
            "--processes", "2"]
    before = snapshot(work)
    started = time.perf_counter()
    process = start(work, args, {"TWOSTEP_RUNS": str(runs)}, new_session=True)
    wait_until(lambda: len(list(runs.glob("*/checkpoint.pt"))) == 2 or process.poll() is not None)
    process.send_signal(signal.SIGTERM)  # the caller only, as `kill` or `timeout` would
    status, line = finish(process)
    seconds = time.perf_counter() - started
    group_gone = wait_until(lambda: _group_gone(process.pid), timeout=15)
    after = snapshot(work)
    changed = sorted(name for name, digest in before.items() if after.get(name) != digest)
    table.row("3rd ex8: SIGTERM to reproduce (2 workers)", args, status, line,
              ", ".join(changed) or "no", seconds)
    leftovers = [str(p.relative_to(work)) for p in work.rglob("*.tmp*")]
    table.note("3rd ex8: after the signals", f"temporary files: {', '.join(leftovers) or 'none'}; "
               f"reproduce's workers {'all gone' if group_gone else 'STILL RUNNING'}")
    status, line = run(work, args, env={"TWOSTEP_RUNS": str(runs)}, sig=signal.SIGTERM,
                       after=8.0)
    table.row("3rd ex8: the same reproduce again, SIGTERM", args, status, line, "-", "-")


def new_commands(table: Table, work: Path) -> None:
    """fit, sweep and the seed shards of a run, as a careless or malicious user would."""
    run = "run"
    write(work / "fit-in" / "trials.csv", (work / run / "trials.csv").read_text())
    for name in ("checkpoint.pt", "config.yaml", "metrics.csv", ".twostep-lock"):
        table.case(f"fit --out the run's {name}", ["fit", f"{run}/trials.csv", "--out",
                                                   f"{run}/{name}"])
    table.case("fit --out the table it fits", ["fit", "fit-in/trials.csv", "--out",
                                               "fit-in/trials.csv"])
    table.case("fit --out a new file", ["fit", "fit-in/trials.csv", "--out", "fit-in/fits.csv"])
    os.link(work / "fit-in" / "fits.csv", work / "fit-in" / "fits-hardlink.csv")
    table.case("fit a hard link of its own --out", ["fit", "fit-in/fits-hardlink.csv",
                                                    "--out", "fit-in/fits.csv"])
    table.case("fit --out a user's file", ["fit", "fit-in/trials.csv", "--out", "mine.csv"])
    table.case("fit --out a user's symlink", ["fit", "fit-in/trials.csv", "--out", "link.csv"])
    os.mkfifo(work / "fit-in" / "fifo.csv")
    for label, path in (("a FIFO", "fit-in/fifo.csv"), ("/dev/zero", "/dev/zero"),
                        ("a folder", "fit-in"), ("missing", "fit-in/none.csv")):
        table.case(f"fit a table that is {label}", ["fit", path], timeout=60)
    write(work / "fit-in" / "empty.csv", "")
    write(work / "fit-in" / "binary.csv", bytes(range(256)) * 64)
    write(work / "fit-in" / "header.csv", HEADER + "\n")
    for name in ("empty", "binary", "header"):
        table.case(f"fit a table that is {name}", ["fit", f"fit-in/{name}.csv"])
    table.case("fit --model nonsense", ["fit", "fit-in/trials.csv", "--model", "nonsense"])
    table.case("fit --common-prob 2", ["fit", "fit-in/trials.csv", "--common-prob", "2"])
    table.case("fit --common-prob nan", ["fit", "fit-in/trials.csv", "--common-prob", "nan"])
    table.case("fit --trials cued on a table without cues", ["fit", "fit-in/trials.csv",
                                                             "--trials", "cued"])

    sweep = ("experiment: tiny.yaml\ngrid:\n  task.common_prob: [0.7, 0.8]\n")
    write(work / "sweep.yaml", sweep)
    runs = {"TWOSTEP_RUNS": str(work / "sweep-runs")}
    table.case("sweep --out a run folder", ["sweep", "sweep.yaml", "--out", run], env=runs)
    table.case("sweep --out inside a run folder", ["sweep", "sweep.yaml", "--out",
                                                   f"{run}/results"], env=runs)
    write(work / "sweep-out" / "results.csv", "the user's results\n")
    table.case("sweep --out over a user's results.csv", ["sweep", "sweep.yaml", "--out",
                                                         "sweep-out"], env=runs)
    table.case("sweep --out a file", ["sweep", "sweep.yaml", "--out", "mine.csv"], env=runs)
    values = "[" + ", ".join(str(v) for v in range(1, 101)) + "]"
    write(work / "huge-grid.yaml", "experiment: tiny.yaml\ngrid:\n" + "".join(
        f"  {field}: {values}\n" for field in ("model.hidden_size", "train.seeds", "task.trials")))
    table.case("sweep a 1,000,000-point grid", ["sweep", "huge-grid.yaml"], env=runs, timeout=60)
    write(work / "octal-sweep.yaml", "experiment: tiny.yaml\ngrid:\n  model.hidden_size: [010, 12]\n")
    table.case("sweep with an octal grid value", ["sweep", "octal-sweep.yaml"], env=runs)
    write(work / "sexagesimal-sweep.yaml", "experiment: tiny.yaml\nset:\n  train.seeds: 1:40\n"
          "points:\n  - {model.hidden_size: 12}\n")
    table.case("sweep with a sexagesimal set value", ["sweep", "sexagesimal-sweep.yaml"],
               env=runs)
    write(work / "self-sweep.yaml", "experiment: self-sweep.yaml\npoints:\n  - {}\n")
    table.case("sweep whose experiment is itself", ["sweep", "self-sweep.yaml"], env=runs)
    write(work / "zero-sweep.yaml", "experiment: /dev/zero\npoints:\n  - {}\n")
    table.case("sweep whose experiment is /dev/zero", ["sweep", "zero-sweep.yaml"], env=runs,
               timeout=60)
    os.mkfifo(work / "fifo-sweep.yaml")
    table.case("sweep file is a FIFO", ["sweep", "fifo-sweep.yaml"], env=runs, timeout=60)
    table.case("sweep file is /dev/zero", ["sweep", "/dev/zero"], env=runs, timeout=60)
    table.case("sweep --workers 0", ["sweep", "sweep.yaml", "--workers", "0"], env=runs)
    table.case("sweep on an address nobody answers", ["sweep", "sweep.yaml", "--engine",
                                                      "tcp://127.0.0.1:9"], env=runs, timeout=120)
    table.case("sweep --out sweep-results (trains 2 points)", ["sweep", "sweep.yaml", "--out",
                                                               "sweep-results"], env=runs,
               timeout=600)
    [point] = sorted((work / "sweep-runs").glob("tiny-*"))[:1]
    signature = point / "signature.csv"
    signature.unlink()
    write(signature, "point,seed,reward\n0,0,99\n")
    table.case("sweep again, a user's signature.csv in a point", ["sweep", "sweep.yaml", "--out",
                                                                  "sweep-results"], env=runs,
               timeout=600)
    table.note("the user's signature.csv afterwards", "kept" if signature.read_text() ==
               "point,seed,reward\n0,0,99\n" else "CHANGED")

    write(work / "shard.yaml", SLOW.replace("name: tiny", "name: shard")
          .replace("seeds: 2", "seeds: 4"))
    shard_runs = work / "shard-runs"
    args = ["reproduce", "--experiments", "shard.yaml", "--out", "shard-results",
            "--processes", "2"]
    table.case("reproduce one 4-seed run on 2 processes (shards), SIGTERM", args,
               env={"TWOSTEP_RUNS": str(shard_runs)}, sig=signal.SIGTERM, group=False,
               when=lambda: len(list(shard_runs.glob("*/shards/*/checkpoint.pt"))) == 2,
               timeout=300)
    shards = sorted(shard_runs.glob("*/shards"))
    leftovers = [str(p.relative_to(work)) for p in shard_runs.rglob("*.tmp*")]
    table.note("after SIGTERM", f"shard checkpoints kept: "
               f"{len(list(shard_runs.glob('*/shards/*/checkpoint.pt')))}; temporary files: "
               f"{', '.join(leftovers) or 'none'}")
    if shards:
        table.case("simulate --out into the run's shards/", [
            "simulate", "wang2018", "--agent", "random", "--episodes", "1", "--out",
            str(shards[0].relative_to(work) / "mine.csv")])
        table.case("train --out inside the run's shards/", [
            "train", "tiny.yaml", "--out", str(shards[0].relative_to(work) / "mine")])
        table.case("evaluate a shard while nobody trains", [
            "evaluate", str(next(shards[0].iterdir()).relative_to(work)), "--out",
            "shard-eval.csv"], timeout=120)


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    write(work / "tiny.yaml", TINY)
    write(work / "slow.yaml", SLOW)
    for args in (["train", "tiny.yaml", "--out", "run"], ["evaluate", "run"],
                 ["train", "tiny.yaml", "--out", "other-run"],
                 ["train", "tiny.yaml", "--out", "snap-run", "--set", "train.snapshot_every=2"]):
        subprocess.run([sys.executable, "-m", "twostep", *args], cwd=work, env=ENV,
                       capture_output=True, check=True)
    (work / "run-link").symlink_to("run")
    trials = (work / "run" / "trials.csv").read_text()
    table = Table(work)
    print("# Hostile input: every case as a real process\n")
    print("Generated by `scripts/hostile_input_table.py`: the exit status, the last line "
          "printed and the files that changed are those of the processes themselves.")
    for title, cases in (
            ("Earlier rounds: names, sizes, values, --out, Ctrl-C, configs, tables",
             lambda: first_rounds(table, work, trials)),
            ("The file policy (examples 1 and 2)", lambda: file_policy(table, work)),
            ("Locks on the folder's identity (example 3)", lambda: locks(table, work)),
            ("Decimal YAML numbers (example 4)", lambda: numbers(table, work)),
            ("Consistent trial tables (example 5)", lambda: tables(table, work)),
            ("Bounded reads, regular files only (example 7)", lambda: reads(table, work)),
            ("Evaluations with other options", lambda: evaluations(table, work)),
            ("fit, sweep and sharded training", lambda: new_commands(table, work)),
            ("Failures of the system (example 6)", lambda: system(table, work)),
            ("Signals (example 8)", lambda: signals(table, work))):
        table.group(title)
        cases()


if __name__ == "__main__":
    main()
