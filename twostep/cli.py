"""The command line: ``python -m twostep COMMAND``.

Commands: ``train``, ``evaluate``, ``simulate``, ``analyze``, ``reproduce``, ``bench``.
Bad input ends with one line, ``error: ...``, on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
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


def _configure_threads() -> None:
    """One intra-op thread: per-step ops are small, and extra threads stall when the
    cores are shared (see the book's performance notes). TWOSTEP_THREADS overrides."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads its BLAS
    import torch

    torch.set_num_threads(int(os.environ.get("TWOSTEP_THREADS", "1")))


def cmd_train(args) -> None:
    from twostep.config import load_experiment
    from twostep.runs import train_run

    config = load_experiment(args.experiment).with_overrides(seeds=args.seeds,
                                                            episodes=args.episodes)
    out = Path(args.out) if args.out else Path("runs") / config.name
    metrics = train_run(config, out, resume=args.resume, device=args.device)
    last = metrics[metrics["update"] == metrics["update"].max()]
    print(f"trained {config.train.seeds} seed(s) x {config.train.episodes} episodes "
          f"({config.train.updates} updates) in {out}; "
          f"last reward per episode {last.reward.mean():.1f}")


def cmd_evaluate(args) -> None:
    from twostep.evaluation import evaluate
    from twostep.runs import load_model

    model, config = load_model(args.run_dir, device=args.device)
    trials = evaluate(model, config, episodes=args.episodes, retrieval=args.retrieval).trials
    out = Path(args.out) if args.out else Path(args.run_dir) / "trials.csv"
    trials.to_csv(out, index=False)
    print(f"{len(trials)} trials ({trials.episode.nunique()} episodes x "
          f"{trials.seed.nunique()} seeds) written to {out}")


def cmd_simulate(args) -> None:
    from twostep.agents import simulate
    from twostep.config import load_experiment

    config = load_experiment(args.experiment)
    trials = simulate(args.agent, config.task, episodes=args.episodes, seeds=args.seeds)
    trials.to_csv(args.out, index=False)
    print(f"{len(trials)} trials of the {args.agent} agent written to {args.out}")


def cmd_analyze(args) -> None:
    from twostep.logs import read_trials
    from twostep.report import analyze, format_analysis

    summary = analyze(read_trials(args.trials))
    print(json.dumps(summary, indent=2) if args.json else format_analysis(summary))


def cmd_reproduce(args) -> None:
    from twostep.reproduce import reproduce

    reproduce(Path(args.out), device=args.device, experiments=args.experiments)


def cmd_bench(args) -> None:
    from twostep.bench import run_bench

    run_bench(updates=args.updates, naive_episodes=args.naive_episodes)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (``error: ...``) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m twostep",
        description="Meta-RL on the two-step task: Wang 2018 and Ritter 2018, batched.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    p = sub.add_parser("train", help="train an experiment's networks")
    p.add_argument("experiment", help="bundled name (wang2018, ritter2018-incremental, "
                   "ritter2018-episodic) or a YAML file")
    p.add_argument("--seeds", type=_positive, help="number of seeds (default: the experiment's)")
    p.add_argument("--episodes", type=_positive, help="training episodes per seed")
    p.add_argument("--out", help="run folder (default: runs/<experiment name>)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="test a trained run with frozen weights")
    p.add_argument("run_dir")
    p.add_argument("--episodes", type=_positive, help="test episodes per seed (default 300)")
    p.add_argument("--out", help="trial table (default: RUN_DIR/trials.csv)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--retrieval", choices=["off", "1nn", "knn"],
                   help="test with another memory rule; 'off' lesions retrieval "
                   "(Ritter 2018's incremental condition)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("simulate", help="run a reference agent that needs no training")
    p.add_argument("experiment")
    p.add_argument("--agent", required=True,
                   choices=["random", "model-free", "model-based", "hybrid", "ideal"])
    p.add_argument("--episodes", type=_positive, default=300)
    p.add_argument("--seeds", type=_positive, default=1)
    p.add_argument("--out", required=True, help="trial table to write")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("analyze", help="stay probabilities and regressions of a trial table")
    p.add_argument("trials", help="trial CSV")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("reproduce", help="every figure and the table of ours vs published")
    p.add_argument("--out", default="results")
    p.add_argument("--device", default="auto")
    p.add_argument("--experiments", nargs="+", default=None,
                   help="subset of bundled experiments (default: all)")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("bench", help="env-steps/s of the batched trainer vs a naive loop")
    p.add_argument("--updates", type=_positive, default=5)
    p.add_argument("--naive-episodes", type=_positive, default=5)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_threads()
    try:
        args.func(args)
    except TwostepError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the last checkpoint is kept; continue with --resume",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
