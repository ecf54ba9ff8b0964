"""The command line: ``python -m twostep COMMAND``.

Commands: ``train``, ``evaluate``, ``simulate``, ``analyze``, ``fit``, ``reproduce``,
``sweep``, ``bench``.

Exit status: 0 done; 2 an expected failure (bad input, a file that cannot be read or
written, not enough memory, a run that diverged, a folder in use), reported as one
line ``error: ...`` on stderr that says what to change; 130 interrupted (Ctrl-C),
one line ``interrupted: ...`` saying what was kept; 1 an unexpected failure (a bug),
also one line. ``--debug`` (or ``TWOSTEP_DEBUG=1``) adds the Python traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path

from twostep.errors import TwostepError


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold Ctrl-C while heavy libraries import, then raise it: a KeyboardInterrupt in the
    middle of ``import torch`` leaves half-loaded modules behind, and the next import of
    them fails with a misleading error instead of ending quietly."""
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _configure_threads() -> None:
    """One intra-op thread: per-step ops are small, and extra threads stall when the
    cores are shared (see the book's performance notes). TWOSTEP_THREADS overrides."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads its BLAS
    with _interrupts_deferred():
        import pandas  # noqa: F401 (loaded here so that Ctrl-C during its import is deferred)
        import torch

    torch.set_num_threads(int(os.environ.get("TWOSTEP_THREADS", "1")))


def add_settings_option(parser: argparse.ArgumentParser) -> None:
    """``--set section.field=value``, repeatable: any config field, checked as in a file."""
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="SECTION.FIELD=VALUE",
                        help="change one config field, e.g. --set train.lr=3e-3 (repeatable; "
                        "the value is read as in a YAML config and checked the same way)")


def settings_of(args) -> list[str]:
    """``--set``'s settings, then ``--seeds`` and ``--episodes`` where the command has them."""
    settings = list(args.settings)
    for option in ("seeds", "episodes"):
        if getattr(args, option, None) is not None:
            settings.append(f"train.{option}={getattr(args, option)}")
    return settings


def cmd_train(args) -> None:
    from twostep.core.config import load_experiment, with_settings
    from twostep.core.devices import resolve_device
    from twostep.runs.checkpoints import is_finished
    from twostep.runs.store import run_dir_for, train_or_load, train_run

    config = with_settings(load_experiment(args.experiment), settings_of(args))
    if args.out:  # a folder of the user's choosing: continued only with --resume
        out = Path(args.out)
        args.on_interrupt = f"the last checkpoint in {out} is kept; continue with --resume"
        metrics = train_run(config, out, resume=args.resume, device=args.device)
        done = "trained"
    else:  # the run cache, as reproduce and the chapters use it: trained once, then loaded
        out = run_dir_for(config, device=resolve_device(args.device))
        args.on_interrupt = (f"the last checkpoint in {out} is kept; run the same command "
                             "again to continue")
        done = "already trained" if is_finished(out) else "trained"
        out, metrics = train_or_load(config, device=args.device, wait=False)
    last = metrics[metrics["update"] == metrics["update"].max()]
    print(f"{done} {config.train.seeds} seed(s) x {config.train.episodes} episodes "
          f"({config.train.updates} updates) in {out}; "
          f"last reward per episode {last.reward.mean():.1f}")


def cmd_evaluate(args) -> None:
    from twostep.core.evaluation import evaluate
    from twostep.core.limits import check_table_fits
    from twostep.errors import TwostepError
    from twostep.files.locks import folder_lock
    from twostep.files.owned import check_replaceable, write_owned
    from twostep.files.paths import check_output_file
    from twostep.runs.checkpoints import load_model

    run_dir = Path(args.run_dir)
    if not (run_dir / "checkpoint.pt").is_file():
        raise TwostepError(f"no checkpoint at {run_dir / 'checkpoint.pt'}")
    out = check_replaceable(check_output_file(Path(args.out) if args.out
                                              else run_dir / "trials.csv"))
    args.on_interrupt = f"nothing was written; {out} is as it was"
    with folder_lock(run_dir):
        model, config = load_model(run_dir, device=args.device)
        check_table_fits(len(model.seeds), args.episodes or config.train.eval_episodes,
                         config.task.trials, seeds_option="train.seeds",
                         episodes_option="--episodes")
        trials = evaluate(model, config, episodes=args.episodes, retrieval=args.retrieval).trials
        write_owned(out, lambda p: trials.to_csv(p, index=False))
    print(f"{len(trials)} trials ({trials.episode.nunique()} episodes x "
          f"{trials.seed.nunique()} seeds) written to {out}")


def cmd_simulate(args) -> None:
    from twostep.core.agents import simulate
    from twostep.core.config import load_experiment
    from twostep.core.limits import check_table_fits
    from twostep.files.owned import check_replaceable, write_owned
    from twostep.files.paths import check_output_file

    out = check_replaceable(check_output_file(args.out))
    args.on_interrupt = f"nothing was written; {out} is as it was"
    config = load_experiment(args.experiment)
    check_table_fits(args.seeds, args.episodes, config.task.trials, seeds_option="--seeds",
                     episodes_option="--episodes")
    trials = simulate(args.agent, config.task, episodes=args.episodes, seeds=args.seeds)
    write_owned(out, lambda p: trials.to_csv(p, index=False))
    print(f"{len(trials)} trials of the {args.agent} agent written to {args.out}")


def cmd_analyze(args) -> None:
    from twostep.analysis.report import analyze, format_analysis
    from twostep.trials.read import read_trial_table

    summary = analyze(read_trial_table(args.trials))
    print(json.dumps(summary, indent=2) if args.json else format_analysis(summary))


def cmd_fit(args) -> None:
    from twostep.core.fit import fit_table
    from twostep.files.owned import check_replaceable, write_owned
    from twostep.files.paths import check_output_file
    from twostep.trials.read import read_trial_table

    out = check_replaceable(check_output_file(args.out)) if args.out else None
    if out is not None and out.resolve() == Path(args.trials).resolve():
        raise TwostepError(f"--out {out} is the trial table being fitted; choose another --out")
    table = read_trial_table(args.trials)
    trials = args.trials_scored or ("uncued" if "cued" in table else "all")
    args.on_interrupt = f"nothing was written; {out} is as it was" if out else "nothing was written"
    fits = fit_table(table, args.model, trials=trials, common_prob=args.common_prob)
    fits.insert(2, "trials", trials)
    if out is not None:
        write_owned(out, lambda p: fits.to_csv(p, index=False))
    if args.json:
        print(fits.to_json(orient="records", indent=2))
    elif out is None:
        print(fits.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if out is not None:
        print(f"{args.model} model fitted to {len(fits)} seed(s) ({trials} trials) "
              f"written to {out}", file=sys.stderr if args.json else sys.stdout)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {value}")
    return value


def cmd_reproduce(args) -> None:
    from twostep.runs.reproduce import reproduce

    args.on_interrupt = ("finished runs and the last checkpoint of an unfinished one are kept; "
                         "run the same command again to continue")
    reproduce(Path(args.out), device=args.device, experiments=args.experiments,
              processes=args.processes, settings=args.settings)


def cmd_sweep(args) -> None:
    from twostep.runs.sweep import load_sweep, run_sweep, write_results

    sweep = load_sweep(args.sweep, args.settings)
    out = Path(args.out) if args.out else Path("sweeps") / sweep.name
    args.on_interrupt = ("finished points and the last checkpoint of unfinished ones are kept; "
                         "run the same command again to continue")
    result = run_sweep(sweep, engine=args.engine, workers=args.workers)
    command = " ".join(["python -m twostep sweep", args.sweep,
                        *(f"--set {setting}" for setting in args.settings),
                        *(["--out", args.out] if args.out else [])])
    table = write_results(sweep, result, out, command)
    seeds = result.table.groupby("point").size()
    print(f"sweep {sweep.name}: {len(sweep.points)} point(s) x {int(seeds.max())} seed(s), "
          f"{len(result.trained)} trained, {len(sweep.points) - len(result.trained)} already done, "
          f"in {result.seconds:.0f} s; table in {table}")


def cmd_bench(args) -> None:
    from twostep.interfaces.env_bench import run_vector_env_bench
    from twostep.runs.bench import run_bench, run_fit_bench

    run_bench(updates=args.updates, naive_episodes=args.naive_episodes)
    run_vector_env_bench(batch=args.env_batch)
    run_fit_bench(episodes=args.fit_episodes)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (``error: ...``) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _debug_option() -> argparse.ArgumentParser:
    """``--debug``, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the Python traceback of a failure")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m twostep",
        description="Meta-RL on the two-step task: Wang 2018 and Ritter 2018, batched.",
        parents=[_debug_option()])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    debug = [_debug_option()]

    p = sub.add_parser("train", parents=debug, help="train an experiment's networks")
    p.add_argument("experiment", help="bundled name (wang2018, ritter2018-incremental, "
                   "ritter2018-episodic) or a YAML file")
    p.add_argument("--seeds", type=_positive, help="number of seeds (default: the experiment's); "
                   "the same as --set train.seeds=N")
    p.add_argument("--episodes", type=_positive, help="training episodes per seed; the same as "
                   "--set train.episodes=N")
    add_settings_option(p)
    p.add_argument("--out", help="run folder (default: the run cache, runs/<name>-<hash>, or "
                   "$TWOSTEP_RUNS/<name>-<hash>, where reproduce and the book find it)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out "
                   "(the run cache continues one by itself)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", parents=debug, help="test a trained run with frozen weights")
    p.add_argument("run_dir")
    p.add_argument("--episodes", type=_positive, help="test episodes per seed (default 300)")
    p.add_argument("--out", help="trial table (default: RUN_DIR/trials.csv)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--retrieval", choices=["off", "1nn", "knn"],
                   help="test with another memory rule; 'off' lesions retrieval "
                   "(the 'lesion' reading of Ritter 2018's incremental panels)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("simulate", parents=debug, help="run a reference agent that needs no training")
    p.add_argument("experiment")
    p.add_argument("--agent", required=True,
                   choices=["random", "model-free", "model-based", "hybrid", "ideal"])
    p.add_argument("--episodes", type=_positive, default=300)
    p.add_argument("--seeds", type=_positive, default=1)
    p.add_argument("--out", required=True, help="trial table to write")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("analyze", parents=debug, help="stay probabilities and regressions of a trial table")
    p.add_argument("trials", help="trial CSV")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("fit", parents=debug,
                       help="fit the Daw 2011 hybrid model to every seed of a trial table")
    p.add_argument("trials", help="trial CSV")
    p.add_argument("--model", choices=["mf", "mb", "hybrid"], default="hybrid",
                   help="model-free (w = 0), model-based (w = 1) or hybrid (default)")
    p.add_argument("--trials", dest="trials_scored", choices=["all", "uncued", "cued"],
                   help="whose choices are scored (default: uncued on the episodic task, "
                   "where cued trials follow memory; else all)")
    p.add_argument("--common-prob", type=_probability,
                   help="the planner's P(common transition) (default: the table's fraction "
                   "of common transitions)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--out", help="write the fits as CSV, one row per seed")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("reproduce", parents=debug, help="every figure and the table of ours vs published")
    p.add_argument("--out", default="results")
    p.add_argument("--device", default="auto")
    p.add_argument("--experiments", nargs="+", default=None,
                   help="subset of bundled experiments (default: all)")
    p.add_argument("--processes", type=_positive, default=None,
                   help="runs trained at once on the CPU (default: one per core)")
    add_settings_option(p)
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("sweep", parents=debug,
                       help="train an experiment across a grid of field changes, on Dask")
    p.add_argument("sweep", help="bundled sweep (smoke, task-family) or a sweep YAML file")
    p.add_argument("--engine", default="local",
                   help="'local' (default: a Dask cluster of one worker per core on this machine) "
                   "or a running Dask scheduler's address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--workers", type=_positive, default=None,
                   help="worker processes of the local engine (default: one per core)")
    p.add_argument("--out", help="folder for results.csv and provenance.yaml "
                   "(default: sweeps/<sweep name>)")
    add_settings_option(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("bench", parents=debug,
                       help="env-steps/s of the batched trainer vs a naive loop, "
                       "and of the Gymnasium vector env vs the batched task; seconds to fit "
                       "the hybrid model")
    p.add_argument("--updates", type=_positive, default=5)
    p.add_argument("--naive-episodes", type=_positive, default=5)
    p.add_argument("--env-batch", type=_positive, default=128,
                   help="episodes stepped together in the vector env comparison (default 128)")
    p.add_argument("--fit-episodes", type=_positive, default=300,
                   help="episodes per seed (8 seeds) in the fit's timing (default 300)")
    p.set_defaults(func=cmd_bench)
    return parser


_MEMORY_HINT = ("not enough memory; use smaller sizes (model.hidden_size, train.batch_size, "
                "train.seeds, task.trials, --episodes, --seeds)")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


def _close_progress_bars() -> None:
    """End an open progress bar's line, so the message that follows starts its own."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", None) or []):
        bar.close()


def describe_failure(err: BaseException) -> tuple[str, int]:
    """The one line and the exit status for an exception that ended a command."""
    if isinstance(err, TwostepError):
        return _one_line(err), 2
    text = str(err)
    if isinstance(err, MemoryError) or (isinstance(err, RuntimeError) and any(
            marker in text for marker in ("out of memory", "not enough memory",
                                          "DefaultCPUAllocator", "Cannot allocate"))):
        return _MEMORY_HINT, 2
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        return _one_line(f"{where}{err.strerror or text}; check the path and its permissions, "
                         "or choose another --out"), 2
    if isinstance(err, UnicodeDecodeError):
        return _one_line(f"not UTF-8 text ({err.reason} at byte {err.start})"), 2
    first = text.splitlines()[0] if text else ""
    return _one_line(f"unexpected {type(err).__name__}: {first} (a bug; rerun with --debug "
                     "for the traceback)"), 1


def main(argv: list[str] | None = None) -> int:
    """Run one command; the single place where failures become one line and a status."""
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False) or os.environ.get("TWOSTEP_DEBUG", "") not in ("", "0")
    args.on_interrupt = "nothing was written"
    try:
        _configure_threads()
        args.func(args)
    except BrokenPipeError:  # output piped into `head`, say: not a failure
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (keeps shutdown from flushing)
        return 0
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        _close_progress_bars()
        print(f"interrupted: {args.on_interrupt}", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 (every failure ends as one line)
        if debug:
            traceback.print_exc()
        message, status = describe_failure(err)
        _close_progress_bars()
        print(f"error: {message}", file=sys.stderr)
        return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
