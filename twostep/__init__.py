"""twostep: meta-reinforcement learning on the two-step task (Wang 2018, Ritter 2018).

The pieces, in the order data flows through them: :mod:`twostep.core.config` (the
experiment), :mod:`twostep.core.seeding` (per-seed random streams), :mod:`twostep.core.tasks`
(batched tasks), :mod:`twostep.core.models` (LSTM and epLSTM actor-critics),
:mod:`twostep.core.memory` (the DND), :mod:`twostep.core.rollout` (playing episodes, the A2C
loss), :mod:`twostep.core.train` (the update and the training loop, no files),
:mod:`twostep.runs` (run folders, checkpoints, the cache), :mod:`twostep.core.evaluation`
(frozen-weight tests), :mod:`twostep.trials` (trial tables), :mod:`twostep.analysis.stats` (stay
probabilities, regressions), :mod:`twostep.analysis.plots` (figures), :mod:`twostep.core.agents`
(reference agents that need no training), :mod:`twostep.interfaces.book` (the chapters' setup).
:mod:`twostep.interfaces.envs` wraps the tasks as Gymnasium environments (the optional ``gym``
extra; nothing else imports Gymnasium).
"""

__version__ = "0.1.0"
