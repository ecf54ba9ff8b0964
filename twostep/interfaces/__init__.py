"""The interfaces: the ways in for a person or another program.

The command line (:mod:`~twostep.interfaces.cli`, ``python -m twostep``), the book's setup
(:mod:`~twostep.interfaces.book`), the tasks as Gymnasium environments
(:mod:`~twostep.interfaces.envs`, the only module that imports Gymnasium) and widgets that
run in the browser (:mod:`~twostep.interfaces.widgets`, the only module that imports
anywidget). Nothing below this layer imports it.
"""
