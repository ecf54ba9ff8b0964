"""Make the shipped table of the paper-protocol panels along 30,000 episodes of training.

    python scripts/along_training.py --out twostep/results/paper-protocol-30k

Trains (or loads from the run cache, ``$TWOSTEP_RUNS`` or ``runs/``) the runs continued to
30,000 episodes (about an hour on one core) and tests every snapshot; see
:mod:`twostep.runs.along`.
"""

import argparse
import sys

from twostep.errors import TwostepError
from twostep.runs.along import EPISODES, SHIPPED, make_shipped_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=f"twostep/results/{SHIPPED}")
    parser.add_argument("--episodes", type=int, default=EPISODES,
                        help=f"test episodes per seed per snapshot (default {EPISODES})")
    args = parser.parse_args()
    try:
        table = make_shipped_table(args.out, episodes=args.episodes)
    except TwostepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(table):,} rows written to {args.out}/stays.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
