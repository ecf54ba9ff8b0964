"""The two-step tasks as Gymnasium environments (needs the optional ``gym`` extra).

Importing this module registers two environment IDs::

    twostep/TwoStep-v0          the two-step task of Wang et al. 2018 (bundled wang2018)
    twostep/EpisodicTwoStep-v0  the episodic two-step task of Ritter et al. 2018
                                (the task of both bundled ritter2018 experiments)

Both take ``config=``: a :class:`~twostep.core.config.TaskConfig`, a bundled experiment's
name or a YAML file, so every parameter comes from the same configuration as the
package's own training. The dynamics are the package's batched tasks
(:class:`~twostep.core.tasks.TwoStepTask`, :class:`~twostep.core.tasks.EpisodicTwoStepTask`),
played at batch 1 by :class:`TwoStepEnv` and at batch ``num_envs`` by
:class:`TwoStepVectorEnv` (``gymnasium.make_vec(ID, num_envs=N)``).

**One Gymnasium step is one trial**, as in the package (one network step per trial):
the action is the first-stage choice, the reward is the trial's reward, and the next
observation is the package's input before the next trial. An episode is ``trials``
steps (100) and then *terminates* (the trial index is part of the observation, so the
end is part of the task, not a time limit).

>>> import gymnasium as gym
>>> import twostep.interfaces.envs
>>> env = gym.make("twostep/TwoStep-v0")
>>> observation, info = env.reset(seed=0)
>>> observation, reward, terminated, truncated, info = env.step(0)

:class:`TrialRecorder` turns the ``info`` of the steps into the package's trial table.
"""

from __future__ import annotations

import gymnasium

from twostep.interfaces.envs.recorder import TrialRecorder
from twostep.interfaces.envs.single import TwoStepEnv, task_config
from twostep.interfaces.envs.vector import TwoStepVectorEnv

ENV_IDS = {
    "twostep/TwoStep-v0": "wang2018",
    "twostep/EpisodicTwoStep-v0": "ritter2018-episodic",
}
"""Each environment ID and the bundled experiment whose task it plays."""


def register() -> None:
    """Register :data:`ENV_IDS` with Gymnasium (done on import; safe to repeat)."""
    for env_id, experiment in ENV_IDS.items():
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point="twostep.interfaces.envs.single:TwoStepEnv",
            vector_entry_point="twostep.interfaces.envs.vector:TwoStepVectorEnv",
            kwargs={"config": experiment},
        )


register()

__all__ = ["ENV_IDS", "TrialRecorder", "TwoStepEnv", "TwoStepVectorEnv", "register", "task_config"]
