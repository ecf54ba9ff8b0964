"""Make the shipped tables of the paper-protocol runs.

    python scripts/along_training.py --out twostep/results/paper-protocol-30k
    python scripts/along_training.py --paper-protocol --out twostep/results/paper-protocol-10k

The first trains (or loads from the run cache, ``$TWOSTEP_RUNS`` or ``runs/``) the runs
continued to 30,000 episodes (about an hour on one core) and tests every snapshot; the
second trains (or loads) the three paper-protocol runs at their 10,000 episodes (about ten
minutes on two cores) and keeps their panels per seed, their test reward and their
learning curves. See :mod:`twostep.runs.along`.

    python scripts/along_training.py --paper-protocol --check

trains the three paper-protocol runs from nothing, in a temporary run cache, one at a time,
and checks that they give the shipped 10,000-episode table (CI runs it beside the book).
"""

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

from twostep.errors import TwostepError
from twostep.runs.along import (
    EPISODES,
    SHIPPED,
    SHIPPED_10K,
    make_paper_protocol_table,
    make_shipped_table,
    shipped_paper_protocol,
)


def check_paper_protocol() -> int:
    """Retrain the three paper-protocol runs from an empty cache; 0 when their tables are the
    shipped ones (to 1e-9), else 1 with the first difference."""
    shipped = shipped_paper_protocol()
    with tempfile.TemporaryDirectory() as folder:
        out, runs = Path(folder) / "table", Path(folder) / "runs"
        make_paper_protocol_table(out, root=runs, progress=False, processes=1)
        made = {name: pd.read_csv(out / f"{name}.csv") for name in ("stays", "rewards", "curves")}
        names = {n: r["run"] for n, r in shipped["provenance"]["runs"].items()}
        retrained = {path.name.rsplit("-", 1)[0]: path.name for path in runs.iterdir()
                     if path.is_dir()}
    if retrained != names:
        print(f"error: the retrained runs are {retrained}, the shipped ones {names}",
              file=sys.stderr)
        return 1
    for name, table in made.items():
        try:
            pd.testing.assert_frame_equal(table, shipped[name], check_exact=False, rtol=1e-9)
        except AssertionError as difference:
            print(f"error: the retrained {name}.csv differs from the shipped one: "
                  f"{str(difference).splitlines()[0]}", file=sys.stderr)
            return 1
    print(f"the three paper-protocol runs, retrained from nothing, give the shipped "
          f"twostep/results/{SHIPPED_10K} tables")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper-protocol", action="store_true",
                        help=f"the three runs at 10,000 episodes (default folder "
                             f"twostep/results/{SHIPPED_10K})")
    parser.add_argument("--check", action="store_true",
                        help="with --paper-protocol: retrain from nothing and compare with the "
                             "shipped table instead of writing one")
    parser.add_argument("--out", default=None)
    parser.add_argument("--episodes", type=int, default=EPISODES,
                        help=f"test episodes per seed per snapshot (default {EPISODES}; "
                             f"the 10,000-episode table uses each config's eval_episodes)")
    args = parser.parse_args()
    out = args.out or f"twostep/results/{SHIPPED_10K if args.paper_protocol else SHIPPED}"
    if args.check and not args.paper_protocol:
        parser.error("--check goes with --paper-protocol")
    try:
        if args.check:
            return check_paper_protocol()
        if args.paper_protocol:
            table = make_paper_protocol_table(out)
        else:
            table = make_shipped_table(out, episodes=args.episodes)
    except TwostepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(table):,} rows written to {out}/stays.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
