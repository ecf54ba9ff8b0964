"""``python -m twostep bench``: the batched trainer against a naive loop, in one run.

The naive loop is how the two-step task is usually trained: one episode per
update, a Python-object environment, ``torch.nn.LSTMCell`` at batch 1 and a
``.item()`` every step. Both are timed in the same process, one after the other,
so the ratio holds on whatever machine runs it; the absolute numbers do not.

:func:`run_fit_bench` times a fit of the hybrid model (:mod:`twostep.core.fit`) to a
table the size of a trained network's test set: 8 seeds x 300 episodes.

The Gymnasium vector environment is timed against the batched task it wraps in
:mod:`twostep.interfaces.env_bench` (the interfaces layer, where Gymnasium may be imported).
"""

from __future__ import annotations

import random
import time

import torch
from torch import nn

from twostep.core.agents import simulate
from twostep.core.build import task_for
from twostep.core.config import ExperimentConfig, load_experiment
from twostep.core.fit import fit_table
from twostep.core.train import new_state, update_step


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
    """Env-steps/s of :func:`twostep.core.train.update_step` at the experiment's batch and seeds."""
    state = new_state(config, torch.device("cpu"))
    task = task_for(config)
    update_step(state, config, task)  # warm-up
    started = time.perf_counter()
    for _ in range(updates):
        update_step(state, config, task)
    elapsed = time.perf_counter() - started
    return updates * config.train.seeds * config.train.batch_size * task.trials / elapsed


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


def run_fit_bench(seeds: int = 8, episodes: int = 300) -> dict:
    """Print and return the seconds :func:`~twostep.core.fit.fit_table` takes to fit the
    hybrid model to ``seeds`` x ``episodes`` episodes of the hybrid agent on the Wang task
    (by default the size of the eight Wang networks' test set), on this process's threads."""
    task = load_experiment("wang2018").task
    table = simulate("hybrid", task, episodes=episodes, seeds=seeds)
    started = time.perf_counter()
    fit_table(table, "hybrid", common_prob=task.common_prob)
    seconds = time.perf_counter() - started
    print(f"fit of the hybrid model, {seeds} seeds x {episodes} episodes "
          f"({len(table):,} trials): {seconds:.1f} s")
    return {"seeds": seeds, "episodes": episodes, "trials": len(table), "seconds": seconds}
