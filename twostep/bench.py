"""``python -m twostep bench``: the batched trainer against a naive loop, in one run.

The naive loop is how the two-step task is usually trained: one episode per
update, a Python-object environment, ``torch.nn.LSTMCell`` at batch 1 and a
``.item()`` every step. Both are timed in the same process, one after the other,
so the ratio holds on whatever machine runs it; the absolute numbers do not.

With Gymnasium installed, a second table times the Gymnasium vector environment
(:class:`twostep.envs.TwoStepVectorEnv`) against the batched task it wraps, at the
same batch, in turns, keeping each one's best repeat. That comparison counts the CPU time
of this process (``time.process_time``), so that other work on shared cores does not
skew the ratio; single-threaded, it is the wall time of an idle machine.
"""

from __future__ import annotations

import random
import time

import torch
from torch import nn

from twostep.config import ExperimentConfig, load_experiment


def naive_steps_per_second(config: ExperimentConfig, episodes: int) -> float:
    """Env-steps/s of a one-episode-per-update loop (the baseline)."""
    task, train = config.task, config.train
    rng = random.Random(0)
    torch.manual_seed(0)
    H = config.model.hidden_size
    cell = nn.LSTMCell(6, H)
    head = nn.Linear(H, 3)
    optimizer = torch.optim.RMSprop([*cell.parameters(), *head.parameters()], lr=train.lr)
    started = time.perf_counter()
    for _ in range(episodes):
        good = rng.random() < 0.5
        h = torch.zeros(1, H)
        c = torch.zeros(1, H)
        x = torch.zeros(1, 6)
        log_probs, values, entropies, rewards = [], [], [], []
        for t in range(task.trials):
            if rng.random() < task.reversal_prob:
                good = not good
            h, c = cell(x, (h, c))
            out = head(h)
            dist = torch.distributions.Categorical(logits=out[:, :2])
            action = dist.sample()
            choice = action.item()
            common = rng.random() < task.common_prob
            state = choice if common else 1 - choice
            p = task.reward_prob_good if state == int(good) else task.reward_prob_bad
            reward = float(rng.random() < p)
            log_probs.append(dist.log_prob(action))
            entropies.append(dist.entropy())
            values.append(out[:, 2])
            rewards.append(reward)
            x = torch.zeros(1, 6)
            x[0, state] = 1
            x[0, 2 + choice] = 1
            x[0, 4] = reward
            x[0, 5] = (t + 1) / task.trials
        returns, running = [], 0.0
        for r in reversed(rewards):
            running = r + train.gamma * running
            returns.insert(0, running)
        returns_t = torch.tensor(returns)
        value = torch.cat(values)
        advantage = (returns_t - value).detach()
        loss = (-(torch.cat(log_probs) * advantage).sum()
                + train.value_weight * 0.5 * ((returns_t - value) ** 2).sum()
                - train.entropy_weight * torch.cat(entropies).sum())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return episodes * task.trials / (time.perf_counter() - started)


def batched_steps_per_second(config: ExperimentConfig, updates: int) -> float:
    """Env-steps/s of :func:`twostep.train.update_step` at the experiment's batch and seeds."""
    from twostep.rollout import task_for
    from twostep.train import new_state, update_step

    state = new_state(config, torch.device("cpu"))
    task = task_for(config)
    update_step(state, config, task)  # warm-up
    started = time.perf_counter()
    for _ in range(updates):
        update_step(state, config, task)
    elapsed = time.perf_counter() - started
    return updates * config.train.seeds * config.train.batch_size * task.trials / elapsed


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
    """Env-steps per CPU second of :class:`twostep.envs.TwoStepVectorEnv` and of the batched
    task it wraps: same batch, same pre-drawn random choices, one episode each in turns, the
    best of ``repeats`` episodes each. The task's episode includes its reset, the env's its
    autoreset step."""
    from twostep.envs import TwoStepVectorEnv
    from twostep.envs.single import build_task

    config = load_experiment(experiment).task
    env = TwoStepVectorEnv(batch, config)
    task = build_task(config)
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
    try:
        import gymnasium  # noqa: F401
    except ImportError:
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


def run_bench(updates: int = 5, naive_episodes: int = 5,
              experiments: tuple[str, ...] = ("wang2018", "ritter2018-episodic")) -> list[dict]:
    """Print and return env-steps/s of the batched trainer and the naive loop, and the ratio."""
    wang = load_experiment("wang2018")
    naive = naive_steps_per_second(wang, naive_episodes)
    print(f"threads: {torch.get_num_threads()}")
    print(f"{'trainer':<38}{'env-steps/s':>14}{'x naive':>10}")
    print(f"{'naive loop (1 episode per update)':<38}{naive:>14,.0f}{1.0:>10.1f}")
    rows = [{"trainer": "naive", "steps_per_s": naive, "ratio": 1.0}]
    for name in experiments:
        config = load_experiment(name)
        batched = batched_steps_per_second(config, updates)
        label = f"batched {name} ({config.train.seeds}x{config.train.batch_size})"
        print(f"{label:<38}{batched:>14,.0f}{batched / naive:>10.1f}")
        rows.append({"trainer": name, "steps_per_s": batched, "ratio": batched / naive})
    return rows
