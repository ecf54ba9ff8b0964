"""Bitwise fingerprints of training and evaluation, to show a refactoring changed nothing.

For each bundled experiment, a tiny run (2 seeds, batch 4, 3 updates, the same
seeds as the experiment) is trained and then tested for 6 episodes per seed
(plus, for the episodic agents, with retrieval lesioned). One more tiny run,
``variant``, covers the options the bundled experiments leave at their defaults:
stored values detached, cues drawn with replacement, and weight snapshots kept
every 2 updates (whose test trials are fingerprinted too). The SHA-256 of the
weights, the optimiser's state, the metrics (wall time left out), the trial
table and the recorded internals are printed as JSON.

    python scripts/fingerprints.py                      # print
    python scripts/fingerprints.py --check FILE.json    # compare; exit 1 on any difference
    python scripts/fingerprints.py --record FILE.json --reason "why"   # record anew

Hashes are of float bytes: they hold on one machine and one torch build (CPU).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import torch

EXPERIMENTS = ["wang2018", "ritter2018-episodic", "ritter2018-episodic-fitted",
               "ritter2018-incremental", "variant"]
TINY = {"seeds": 2, "batch_size": 4, "episodes": 12, "checkpoint_every": 2}
VARIANT = {  # the science options, on the episodic agent
    "model": {"detach_stored_values": True},
    "task": {"cue_sampling": "replacement"},
    "train": {**TINY, "snapshot_every": 2},
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _tensor_sha(tensors: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        value = tensors[name]
        digest.update(name.encode())
        if isinstance(value, torch.Tensor):
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()[:16]


def _optimizer_sha(state_dict: dict) -> str:
    tensors = {}
    for index, per_param in state_dict["state"].items():
        for key, value in per_param.items():
            tensors[f"{index}.{key}"] = value
    return _tensor_sha(tensors)


def _trials_and_internals(result):
    """``evaluate``'s result, whatever its shape: (trials, internals or {})."""
    if isinstance(result, tuple):
        return result
    if hasattr(result, "trials"):
        return result.trials, dict(getattr(result, "internals", {}) or {})
    return result, {}


def _flat(state_dict: dict) -> torch.Tensor:
    return torch.cat([state_dict[k].reshape(-1).float() for k in sorted(state_dict)])


def fingerprint(name: str, root: Path) -> dict:
    from twostep.core.config import load_experiment
    from twostep.core.evaluation import evaluate
    from twostep.runs.checkpoints import load_model
    from twostep.runs.store import evaluate_snapshots_or_load, train_or_load

    if name == "variant":
        config = load_experiment("ritter2018-episodic").with_changes(**VARIANT)
    else:
        config = load_experiment(name).with_changes(train=TINY)
    run_dir, metrics = train_or_load(config, root, device="cpu", progress=False)
    model, trained = load_model(run_dir)
    out = {
        "weights": _tensor_sha(model.state_dict()),
        "optimizer": _optimizer_sha(torch.load(run_dir / "checkpoint.pt",
                                               weights_only=True)["optimizer"]),
        "metrics": _sha(metrics.drop(columns=["seconds"]).to_csv(index=False).encode()),
    }
    trials, internals = _trials_and_internals(
        evaluate(model, trained, episodes=6, batch_size=4, record_internals=True))
    buffer = io.StringIO()
    trials.to_csv(buffer, index=False)
    out["trials"] = _sha(buffer.getvalue().encode())
    # the internals recorded before the restructuring (later ones are left out)
    out["internals"] = _tensor_sha({k: v for k, v in internals.items()
                                    if k in ("hidden", "retrieved_trial", "reinstatement_gate")})
    out["reward"] = float(trials.reward.mean())
    if trained.model.retrieval != "off":
        lesioned, _ = _trials_and_internals(evaluate(model, trained, episodes=6, retrieval="off"))
        out["trials_retrieval_off"] = _sha(lesioned.to_csv(index=False).encode())
    if trained.train.snapshot_every:
        out["snapshots"] = _tensor_sha({
            path.name: value for path in sorted((run_dir / "snapshots").glob("*.pt"))
            for value in [_flat(torch.load(path, weights_only=True))]})
        table = evaluate_snapshots_or_load(run_dir, episodes=6)
        out["snapshot_trials"] = _sha(table.to_csv(index=False).encode())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", help="recorded fingerprints (JSON) to compare with")
    parser.add_argument("--record", help="write the fingerprints to this JSON file")
    parser.add_argument("--reason", help="why they are recorded anew (required with --record; "
                        "kept in the file as '_reason')")
    args = parser.parse_args(argv)
    if args.record and not args.reason:
        parser.error("--record needs --reason: say why training or evaluation changed")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        prints = {name: fingerprint(name, Path(folder)) for name in EXPERIMENTS}
    print(json.dumps(prints, indent=2))
    if args.record:
        Path(args.record).write_text(json.dumps({"_reason": args.reason, **prints}, indent=2) + "\n")
    if args.check:
        recorded = json.loads(Path(args.check).read_text())
        differ = [f"{name}.{key}" for name in recorded if not name.startswith("_")
                  for key in recorded[name]
                  if prints.get(name, {}).get(key) != recorded[name][key]]
        print("identical" if not differ else f"DIFFERENT: {', '.join(differ)}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
