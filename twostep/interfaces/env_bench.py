"""The Gymnasium vector environment against the batched task it wraps: ``bench``'s second table.

The vector environment (:class:`~twostep.interfaces.envs.TwoStepVectorEnv`) and the
package's batched task play the same pre-drawn choices at the same batch, in turns,
keeping each one's best repeat. The comparison counts the CPU time of this process
(``time.process_time``), so that other work on shared cores does not skew the ratio;
single-threaded, it is the wall time of an idle machine.
"""

from __future__ import annotations

import importlib.util
import time

import torch

from twostep.core.config import load_experiment
from twostep.core.tasks import make_task


def _task_steps_per_second(task, batch: int, choices: list[torch.Tensor], seed: int) -> float:
    """Env-steps/s of the package's batched task, driven directly with given choices."""
    generator = torch.Generator().manual_seed(seed)
    started = time.process_time()
    task.reset((batch,), generator)
    for choice in choices:
        task.step(choice)
    return batch * len(choices) / (time.process_time() - started)


def _vector_env_steps_per_second(env, choices: list, seed: int) -> float:
    """Env-steps/s (trials played) of the vector env over one episode, its autoreset step included."""
    env.reset(seed=seed)
    started = time.process_time()
    for choice in choices:
        env.step(choice)
    env.step(choices[0])  # the next-step autoreset: part of the cost of an episode
    return env.num_envs * len(choices) / (time.process_time() - started)


def vector_env_vs_task(experiment: str, batch: int = 128, repeats: int = 10) -> dict:
    """Env-steps per CPU second of :class:`~twostep.interfaces.envs.TwoStepVectorEnv` and of the
    batched task it wraps: same batch, same pre-drawn random choices, one episode each in turns, the
    best of ``repeats`` episodes each. The task's episode includes its reset, the env's its
    autoreset step."""
    from twostep.interfaces.envs import TwoStepVectorEnv

    config = load_experiment(experiment).task
    env = TwoStepVectorEnv(batch, config)
    task = make_task(config)
    choices = torch.randint(0, 2, (config.trials, batch), generator=torch.Generator().manual_seed(0))
    task_choices, env_choices = list(choices), list(choices.numpy())
    task_rate = env_rate = 0.0
    for repeat in range(repeats + 1):  # the first turn warms up
        task_now = _task_steps_per_second(task, batch, task_choices, repeat)
        env_now = _vector_env_steps_per_second(env, env_choices, repeat)
        if repeat:
            task_rate, env_rate = max(task_rate, task_now), max(env_rate, env_now)
    return {"experiment": experiment, "batch": batch, "task_steps_per_s": task_rate,
            "env_steps_per_s": env_rate, "ratio": env_rate / task_rate}


def run_vector_env_bench(batch: int = 128, repeats: int = 10,
                         experiments: tuple[str, ...] = ("wang2018", "ritter2018-episodic")) -> list[dict]:
    """Print and return the Gymnasium vector env against the batched task (needs gymnasium)."""
    if importlib.util.find_spec("gymnasium") is None:
        print("Gymnasium vector env: not timed (gymnasium is not installed: pip install 'twostep[gym]')")
        return []
    print(f"{'Gymnasium vector env vs batched task':<44}{'env-steps/s':>14}{'x task':>10}")
    rows = []
    for name in experiments:
        row = vector_env_vs_task(name, batch, repeats)
        print(f"{f'batched task {name} ({batch})':<44}{row['task_steps_per_s']:>14,.0f}{1.0:>10.2f}")
        print(f"{f'TwoStepVectorEnv {name} ({batch})':<44}{row['env_steps_per_s']:>14,.0f}"
              f"{row['ratio']:>10.2f}")
        rows.append(row)
    return rows
