"""Run every hostile-input case through the command line; print a Markdown table.

    PYTHONPATH=. python scripts/hostile_input_table.py [WORK_FOLDER] > table.md

Each row: the command, its exit status, the one line it printed (stderr without
progress bars), whether any file that existed before it changed, and the seconds
it took. Every case is a real ``python -m twostep`` process; cases that need a
signal send SIGINT once the process has loaded torch (read from /proc).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = ("name: tiny\ntask: {kind: two-step, trials: 20}\nmodel: {hidden_size: 8}\n"
        "train: {seeds: 2, episodes: 8, batch_size: 4, checkpoint_every: 1, eval_episodes: 3}\n")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock")}


def message(err: str) -> str:
    lines = [line.strip() for line in err.replace("\r", "\n").splitlines()
             if line.strip() and "update/s" not in line]
    if any(line.startswith("Traceback") for line in lines):
        return "TRACEBACK: " + lines[-1]
    return " / ".join(lines[-2:]) if len(lines) > 1 and not lines[-1].startswith(
        ("error:", "interrupted:")) else (lines[-1] if lines else "")


def wait_for(process, library="libtorch", timeout=120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if library in Path(f"/proc/{process.pid}/maps").read_text():
                return
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.005)


def run(work: Path, args: list[str], interrupt_after: float | None = None,
        interrupt_on: str | None = None) -> tuple[int, str, float]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "twostep", *args], cwd=work, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if interrupt_on is not None:  # read stderr until the text appears, then Ctrl-C
        seen = ""
        while interrupt_on not in seen and process.poll() is None:
            seen += process.stderr.read(1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=600)
        err = seen + err
    else:
        if interrupt_after is not None:
            wait_for(process)
            time.sleep(interrupt_after)
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=600)
    return process.returncode, message(err) or out.strip().splitlines()[-1], (
        time.perf_counter() - started)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    write(work / "tiny.yaml", TINY)
    subprocess.run([sys.executable, "-m", "twostep", "train", "tiny.yaml", "--out", "run"],
                   cwd=work, env=ENV, capture_output=True, check=True)
    subprocess.run([sys.executable, "-m", "twostep", "evaluate", "run"], cwd=work, env=ENV,
                   capture_output=True, check=True)
    trials = (work / "run" / "trials.csv").read_text()
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
    (work / "latin1.yaml").write_bytes("name: café\n".encode("latin-1"))
    write(work / "truncated.csv", trials[: len(trials) // 2])
    write(work / "short.csv", "\n".join([header, *rows[: len(rows) // 2 + 7]]) + "\n")
    write(work / "long-line.csv", header + "\n" + "0," * 5_000_000 + "\n")
    crafted = work / "crafted"
    shutil.copytree(work / "run", crafted)
    import torch

    payload = torch.load(crafted / "checkpoint.pt", weights_only=True)
    torch.save({**payload, "update": "many", "generators": ["x"]}, crafted / "checkpoint.pt")
    slow = config("slow", TINY.replace("episodes: 8", "episodes: 1000000000000000"))

    cases: list[tuple[str, list[str], dict]] = [
        ("name: ../../x", ["train", config("up", "name: ../../x\n")], {}),
        ("name: /tmp/abs", ["train", config("abs", "name: /tmp/abs\n")], {}),
        ('name: ""', ["train", config("empty", "name: ''\n")], {}),
        ("name: .hidden", ["train", config("hidden", "name: .hidden\n")], {}),
        ("user's config.yaml in --out", ["train", "myexp/config.yaml", "--out", "myexp"], {}),
        ("evaluate, Ctrl-C mid-run", ["evaluate", "run", "--episodes", "20000"],
         {"interrupt_after": 1.0}),
        ("analyze, Ctrl-C", ["analyze", "run/trials.csv"], {"interrupt_after": 0.5}),
        ("train, Ctrl-C while torch imports", ["train", "tiny.yaml", "--out", "run-int"],
         {"interrupt_after": 0.0}),
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
         {"interrupt_on": "--resume\n"}),
        ("10**15 episodes, --resume, Ctrl-C", ["train", slow, "--out", "slow-run", "--resume"],
         {"interrupt_on": "--resume\n"}),
    ]
    print("| case | command | exit | printed | earlier files changed | s |")
    print("|---|---|---|---|---|---|")
    for label, args, options in cases:
        before = snapshot(work)
        status, line, seconds = run(work, args, **options)
        after = snapshot(work)
        changed = sorted(name for name, digest in before.items() if after.get(name) != digest)
        shown = " ".join(a if len(a) < 40 else a[:37] + "..." for a in args)
        print(f"| {label} | `twostep {shown}` | {status} | {line.replace('|', '/')[:300]} | "
              f"{', '.join(changed) or 'no'} | {seconds:.1f} |", flush=True)

    # two trainings into one folder at once, different settings
    write(work / "a.yaml", TINY.replace("episodes: 8", "episodes: 400"))
    write(work / "b.yaml", TINY.replace("episodes: 8", "episodes: 480"))
    procs = [subprocess.Popen([sys.executable, "-m", "twostep", "train", name, "--out", "both"],
                              cwd=work, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for name in ("a.yaml", "b.yaml")]
    for name, proc in zip(("a.yaml", "b.yaml"), procs, strict=True):
        out, err = proc.communicate(timeout=600)
        print(f"| concurrent train | `twostep train {name} --out both` | {proc.returncode} | "
              f"{(message(err) or out.strip()).replace('|', '/')[:300]} | - | - |")
    kept = (work / "both" / "config.yaml").read_text().split("episodes: ")[1].split("\n")[0]
    print(f"\nboth/config.yaml holds episodes: {kept}")


if __name__ == "__main__":
    main()
