"""twostep: meta-reinforcement learning on the two-step task (Wang 2018, Ritter 2018).

The pieces, in the order data flows through them: :mod:`twostep.config` (the
experiment), :mod:`twostep.seeding` (per-seed random streams), :mod:`twostep.tasks`
(batched tasks), :mod:`twostep.models` (LSTM and epLSTM actor-critics),
:mod:`twostep.memory` (the DND), :mod:`twostep.rollout` (playing episodes, the A2C
loss), :mod:`twostep.train` (the update and the training loop, no files),
:mod:`twostep.runs` (run folders, checkpoints, the cache), :mod:`twostep.evaluation`
(frozen-weight tests), :mod:`twostep.logs` (trial tables), :mod:`twostep.analysis` (stay
probabilities, regressions), :mod:`twostep.plots` (figures), :mod:`twostep.agents`
(reference agents that need no training), :mod:`twostep.book` (the chapters' setup).
:mod:`twostep.envs` wraps the tasks as Gymnasium environments (the optional ``gym``
extra; nothing else imports Gymnasium).
"""

__version__ = "0.1.0"
