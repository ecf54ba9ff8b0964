"""The analysis layer: trial tables in, statistics, reports and figures out.

Stay probabilities and regressions (:mod:`~twostep.analysis.stats`, the one home of the
condition names), what the papers published (:mod:`~twostep.analysis.published`), reports
of ours beside theirs (:mod:`~twostep.analysis.report`), each seed's model-based signature
as one row (:mod:`~twostep.analysis.signature`) and figures (:mod:`~twostep.analysis.plots`,
and maps of a sweep: :mod:`~twostep.analysis.maps`). It reads tables, never tensors or run folders, so it
needs neither the science (:mod:`twostep.core`) nor PyTorch.
"""
