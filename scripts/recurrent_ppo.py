"""Train sb3-contrib's RecurrentPPO on twostep/TwoStep-v0 and ship its test trials, or check them.

The Gymnasium appendix shows RecurrentPPO beside the package's A2C-LSTM. Training takes
minutes per seed, so the book reads the seeds' test trials from a file shipped in the package
(``twostep/interfaces/envs/recurrent_ppo_trials.csv.gz``, with its provenance in
``recurrent_ppo_trials.json``), and CI retrains one seed to check that it plays exactly the
shipped rows:

    python scripts/recurrent_ppo.py write --seeds 0 1 2 3     # train, play, ship (one process per seed)
    python scripts/recurrent_ppo.py check --seed 0            # retrain one seed, compare bitwise
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata

import pandas as pd
import torch

from twostep.interfaces.envs import recurrent_ppo

VERSIONS = ["twostep", "sb3-contrib", "stable-baselines3", "gymnasium", "torch", "numpy", "pandas"]


def one_seed(seed: int) -> tuple[pd.DataFrame, float]:
    """Train ``seed`` on one thread and play its test episodes; the training time, seconds."""
    torch.set_num_threads(1)
    started = time.perf_counter()
    agent = recurrent_ppo.train(seed)
    seconds = time.perf_counter() - started
    return recurrent_ppo.play(agent, seed), seconds


def digest(table: pd.DataFrame) -> str:
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()


def write(seeds: list[int], processes: int) -> int:
    with ProcessPoolExecutor(processes) as pool:
        results = list(pool.map(one_seed, seeds))
    per_seed = dict(zip(seeds, results, strict=True))
    table = pd.concat([trials for trials, _ in results], ignore_index=True)
    table.to_csv(recurrent_ppo.SHIPPED_TRIALS, index=False,
                 compression={"method": "gzip", "mtime": 0})
    provenance = {
        "command": f"python scripts/recurrent_ppo.py write --seeds {' '.join(map(str, seeds))} "
                   f"--processes {processes}",
        "env_id": recurrent_ppo.ENV_ID,
        "algorithm": "sb3_contrib.RecurrentPPO('MlpLstmPolicy')",
        "n_envs": recurrent_ppo.N_ENVS,
        "steps": recurrent_ppo.STEPS,
        "settings": recurrent_ppo.SETTINGS,
        "test_episodes": recurrent_ppo.TEST_EPISODES,
        "test_seed": recurrent_ppo.TEST_SEED,
        "seeds": seeds,
        "training_seconds": {str(seed): round(seconds, 1) for seed, (_, seconds) in per_seed.items()},
        "sha256_per_seed": {str(seed): digest(trials) for seed, (trials, _) in per_seed.items()},
        "versions": {name: metadata.version(name) for name in VERSIONS},
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s) per seed, "
                   f"{processes} seed(s) at a time",
    }
    recurrent_ppo.SHIPPED_PROVENANCE.write_text(json.dumps(provenance, indent=2) + "\n")
    for seed, (trials, seconds) in per_seed.items():
        print(f"seed {seed}: {trials.reward.sum() / recurrent_ppo.TEST_EPISODES:.1f} reward per "
              f"100 trials, trained in {seconds:.0f} s")
    print(f"wrote {recurrent_ppo.SHIPPED_TRIALS} and {recurrent_ppo.SHIPPED_PROVENANCE.name}")
    return 0


def check(seed: int) -> int:
    shipped = recurrent_ppo.shipped_trials()
    shipped = shipped[shipped.seed == seed].reset_index(drop=True)
    if shipped.empty:
        print(f"error: seed {seed} is not among the shipped seeds", file=sys.stderr)
        return 2
    trials, seconds = one_seed(seed)
    expected = recurrent_ppo.shipped_provenance()["sha256_per_seed"][str(seed)]
    if digest(trials) != expected or not trials.equals(shipped):
        differ = (trials != shipped).any(axis=1).sum() if trials.shape == shipped.shape else "all"
        print(f"error: seed {seed} retrained in {seconds:.0f} s plays differently from the shipped "
              f"rows ({differ} of {len(shipped)} rows differ)", file=sys.stderr)
        return 1
    print(f"seed {seed}: retrained in {seconds:.0f} s, its {len(trials)} test trials are bitwise "
          f"the shipped ones")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    writing = commands.add_parser("write", help="train the seeds and ship their test trials")
    writing.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    writing.add_argument("--processes", type=int, default=2)
    checking = commands.add_parser("check", help="retrain one shipped seed and compare its rows")
    checking.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    return write(args.seeds, args.processes) if args.command == "write" else check(args.seed)


if __name__ == "__main__":
    sys.exit(main())
