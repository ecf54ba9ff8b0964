"""The file layer: how the tool reads and writes files, whatever they hold.

The file policy
===============

Every file the package writes follows five rules, each one function
(:mod:`~twostep.files.owned` unless said), each tested on its own (tests/test_file_policy.py):

1. **A run's own files are never an --out of another command.** A run folder holds its
   ``config.yaml``, ``checkpoint.pt``, ``metrics.csv``, ``snapshots/``, its evaluation
   tables, the list of the tool's files, the lock, and while its seeds train apart, their
   runs in ``shards/``; no command writes its output anywhere inside it, at any depth, and
   the list and the lock are no command's output anywhere:
   ``check_not_in_run_folder`` (and ``check_folder_not_in_run`` for output folders).
2. **A name joins the tool's list only once its file is whole on disk**: written to a
   temporary file, flushed, renamed over the target and the folder flushed
   (:func:`~twostep.files.write.atomic_write`), and only then listed: ``record``. A write
   that fails or is interrupted leaves neither a file nor a name behind.
3. **The list survives names with any character and concurrent writers**: one JSON line
   per name (a newline in a name is escaped, never two entries), appended under an
   exclusive lock on the list and never rewritten, so no writer loses another's entry:
   ``listed`` reads it, ``record`` appends to it.
4. **Nothing is vouched for by a guess**: a file is the tool's only if the list of its
   folder names it; not because a run folder "usually" holds such a name, not because a
   checkpoint sits beside it. A symbolic link, a folder or a FIFO is never the tool's file.
   A file that is not the tool's is never replaced, and never read back as its cache:
   ``owned`` (and ``check_replaceable``).
5. **Every writer follows the policy**: the command line, the library functions, the
   Gymnasium trial recorder, reproduce and its figures, sweeps write outputs through
   ``write_owned`` (rules 1, 4, 2) and a run's own files (training, evaluations, the merge
   of a run's seed shards) through ``write_run_file`` (rules 4, 2); the shards, once
   merged, are removed through their lists (``remove_run_folder``), never a user's file.

Beside the policy: a run folder is worked in by one process at a time, whatever path names
it (:mod:`~twostep.files.locks`); reads are bounded and refuse what is not a regular file
(:mod:`~twostep.files.read`); a failure of the system (a full disk, a vanished or read-only
folder) is one line that says what to do (:mod:`~twostep.files.failures`). Nothing here
knows what a run, a config or a trial is.
"""
