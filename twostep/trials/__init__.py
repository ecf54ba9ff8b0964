"""The trial layer: the trial table, the one format every result is kept in.

One row per trial (:mod:`~twostep.trials.columns` names the columns), built from the
outcomes of a batch of episodes (:mod:`~twostep.trials.frame`) and read back from a CSV
file with every value checked (:mod:`~twostep.trials.read`). Training, evaluation, the
reference agents and the Gymnasium recorder write it; the analyses read it.
"""
