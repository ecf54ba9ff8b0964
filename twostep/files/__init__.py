"""The file layer: how the tool reads and writes files, whatever they hold.

Writes are whole or nothing (:mod:`~twostep.files.write`), never over a file the tool did not
write (:mod:`~twostep.files.owned`), only where the command may write
(:mod:`~twostep.files.paths`), and one process at a time per run folder
(:mod:`~twostep.files.locks`); reads are bounded (:mod:`~twostep.files.read`). Nothing here
knows what a run, a config or a trial is.
"""
