"""``python -m twostep bench``: the engines against each other and a naive loop, in one run.

:func:`run_bench` times an update of each cell (the LSTM of ``wang2018``, the epLSTM of
``ritter2018-episodic``) at several batch sizes on the reference engine, the compiled
engine (:mod:`twostep.core.engine`) and every CUDA device present. The naive loop is how
the two-step task is usually trained: one episode per update, a Python-object
environment, ``torch.nn.LSTMCell`` at batch 1 and a ``.item()`` every step. All are
timed in the same process, one after the other, so the ratios hold on whatever machine
runs it; the absolute numbers do not.

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
    """Env-steps/s of a one-episode-per-update loop (the baseline), in this process's CPU
    time, like :func:`ms_per_update` on the CPU."""
    task, train = config.task, config.train
    rng = random.Random(0)
    torch.manual_seed(0)
    H = config.model.hidden_size
    cell = nn.LSTMCell(6, H)
    head = nn.Linear(H, 3)
    optimizer = torch.optim.RMSprop([*cell.parameters(), *head.parameters()], lr=train.lr)
    started = time.process_time()
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
    return episodes * task.trials / (time.process_time() - started)


CELLS = {"LSTM": "wang2018", "epLSTM": "ritter2018-episodic"}
"""The two cells the bench times, each in the experiment that uses it."""


def ms_per_update(config: ExperimentConfig, device: torch.device, budget_s: float = 1.0,
                  most: int = 50) -> float:
    """Milliseconds per :func:`~twostep.core.train.update_step` of ``config`` on ``device``:
    after one warm-up update, as many updates as fit in ``budget_s`` (at least two, at
    most ``most``). On the CPU it is this process's CPU time, which another busy process
    on the machine does not inflate; on a GPU, wall time with the device synchronised."""
    state = new_state(config, device)
    task = task_for(config, device)
    update_step(state, config, task)  # warm-up: kernels compiled or loaded, caches filled
    cuda = device.type == "cuda"

    def now() -> float:
        if cuda:
            torch.cuda.synchronize(device)
            return time.perf_counter()
        return time.process_time()

    started, n = now(), 0
    while n < 2 or (n < most and now() - started < budget_s):
        update_step(state, config, task)
        n += 1
    return (now() - started) / n * 1000


def devices_present() -> list[torch.device]:
    """The CPU and every CUDA device."""
    return [torch.device("cpu"),
            *(torch.device("cuda", i) for i in range(torch.cuda.device_count()))]


def run_bench(batches: tuple[int, ...] = (1, 16, 128), seeds: int = 8, naive_episodes: int = 5,
              budget_s: float = 1.0, cells: dict[str, str] | None = None) -> list[dict]:
    """Print and return ms per update, one table per cell, one row per batch size.

    Columns: the naive loop (LSTM only: its time per episode, measured here, times the
    ``seeds x batch`` episodes of an update), the reference engine and the compiled engine
    on the CPU, and the reference engine on each CUDA device present; all measured in this
    run, on this process's threads (``torch.get_num_threads()``)."""
    cells = CELLS if cells is None else cells
    cpu = torch.device("cpu")
    gpus = devices_present()[1:]
    naive_ms = None
    print(f"ms per update, {seeds} seeds, {torch.get_num_threads()} thread(s); "
          "x: the reference engine's time over the compiled one's")
    rows = []
    for cell, name in cells.items():
        base = load_experiment(name)
        if cell == "LSTM" and naive_episodes:
            per_episode_ms = 1000 * base.task.trials / naive_steps_per_second(base, naive_episodes)
        header = f"{'batch':>6}{'naive loop':>12}{'reference':>11}{'compiled':>10}{'x':>6}"
        header += "".join(f"{str(gpu):>11}" for gpu in gpus)
        print(f"\n{cell} ({name})\n{header}")
        for batch in batches:
            config = base.with_changes(train={"seeds": seeds, "batch_size": batch})
            row = {"cell": cell, "experiment": name, "batch": batch, "seeds": seeds}
            for engine in ("reference", "compiled"):
                row[engine] = ms_per_update(config.with_changes(train={"engine": engine}),
                                            cpu, budget_s)
            naive_ms = (per_episode_ms * seeds * batch
                        if cell == "LSTM" and naive_episodes else float("nan"))
            row["naive"] = naive_ms
            for gpu in gpus:
                row[str(gpu)] = ms_per_update(config.with_changes(train={"engine": "reference"}),
                                              gpu, budget_s)
            row["speedup"] = row["reference"] / row["compiled"]
            naive = "-" if naive_ms != naive_ms else f"{naive_ms:,.0f}"
            line = (f"{batch:>6}{naive:>12}{row['reference']:>11.1f}{row['compiled']:>10.1f}"
                    f"{row['speedup']:>6.1f}")
            line += "".join(f"{row[str(gpu)]:>11.1f}" for gpu in gpus)
            print(line)
            rows.append(row)
    if not gpus:
        print("(no CUDA device here)")
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
