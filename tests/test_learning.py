"""Training learns: a tiny A2C-LSTM beats chance on the two-step task within seconds.

The only other "it learns" checks are in the chapters, minutes into a full run; this one
guards the whole loop (task, network, loss, optimiser) in the unit tests.
"""

from helpers import tiny

from twostep.core.train import train

CHANCE = 50.0
"""Reward per 100 trials of random choices: the good state is reached half the time, and
0.5 x 0.9 + 0.5 x 0.1 = 0.5."""


def test_a_tiny_lstm_learns_to_beat_chance_within_150_updates():
    # 4 seeds x 150 updates of 16 episodes, 16 units: about 5-10 s on one core. Over 8
    # disjoint sets of 4 seeds (first_seed 0, 100, ..., 700) the mean reward of the last 20
    # updates was 62.2-67.2 per 100 trials (the ideal observer earns 70.7), and no seed's
    # was below 55. Chance gives 50 +- 0.14 (s.e. of 4 x 20 x 16 x 100 trials), so 58 is far
    # from both: the test fails if learning breaks, not by bad luck.
    config = tiny("wang2018", seeds=4, first_seed=0, batch_size=16, episodes=16 * 150,
                  lr=1e-2).with_changes(model={"hidden_size": 16})
    _, metrics = train(config, device="cpu", progress=False)
    per_100 = metrics.assign(reward=100 * metrics["reward"] / config.task.trials)
    first = per_100[per_100["update"] <= 10]["reward"].mean()
    last = per_100[per_100["update"] > 130].groupby("seed")["reward"].mean()
    assert abs(first - CHANCE) < 4  # it starts at chance: the rise is learnt
    assert last.mean() > CHANCE + 8, last
    assert (last > CHANCE + 2).all(), last  # every seed learns something
