"""The science: what an experiment is and how it runs, with no files and no figures.

The config (:mod:`~twostep.core.config`, read strictly by :mod:`~twostep.core.strict_yaml`),
per-seed random streams (:mod:`~twostep.core.seeding`), where the networks run
(:mod:`~twostep.core.devices`) and what fits in memory (:mod:`~twostep.core.limits`); the
batched tasks (:mod:`~twostep.core.tasks`), the recurrent actor-critics
(:mod:`~twostep.core.models`) and the DND (:mod:`~twostep.core.memory`), built from a
config by :mod:`~twostep.core.build`; playing episodes and the A2C loss
(:mod:`~twostep.core.rollout`), training (:mod:`~twostep.core.train`), frozen-weight tests
(:mod:`~twostep.core.evaluation`), reference agents that need no training
(:mod:`~twostep.core.agents`, the Daw 2011 ones through the equations of
:mod:`~twostep.core.hybrid`), and the hybrid model fitted to choices by maximum likelihood
(:mod:`~twostep.core.fit`: torch's autograd gives its gradients, which is why it lives
here and not in the table-only analysis layer). Results leave this layer as trial tables
(:mod:`twostep.trials`) and metrics tables.
"""
