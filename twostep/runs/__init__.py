"""The run layer: trained runs on disk, and the commands' heavy lifting built on them.

Run folders, the cache keyed by config and snapshots (:mod:`~twostep.runs.store`),
checkpoints (:mod:`~twostep.runs.checkpoints`), several runs trained side by side
(:mod:`~twostep.runs.parallel`), every published panel reproduced
(:mod:`~twostep.runs.reproduce`), sweeps over the task family (:mod:`~twostep.runs.sweep`)
on Dask (:mod:`~twostep.runs.cluster`, the optional ``sweep`` extra) and the trainer timed
against a naive loop (:mod:`~twostep.runs.bench`).
"""
