"""twostep: meta-reinforcement learning on the two-step task (Wang 2018, Ritter 2018).

Every module, layer by layer, each layer importing only those above it in this list
(``lint-imports`` checks it; pyproject.toml), in the order data flows through them:
config -> task -> rollout -> loss -> update -> trial table -> analysis -> figure.

``errors``                   the one exception the command line turns into one line

``files/`` how the tool reads and writes files, whatever they hold
    ``write``                atomic writes, flushed to the disk before the rename
    ``owned``                the file policy: never over a user's file or a run's own files
    ``paths``                output paths checked before any work
    ``locks``                one process per run folder, whatever path names it
    ``read``                 bounded reads of files someone hands us
    ``failures``             a full disk, a vanished or read-only folder: one line each

``trials/`` the trial table, one row per trial
    ``columns``              the names of its columns, in one place
    ``frame``                built from a batch of outcomes, and turned back into tensors
    ``read``                 read from CSV with every value checked; checked in memory

``core/`` the science, no files and no figures
    ``strict_yaml``          YAML read strictly (no duplicate keys, 1e-3 a number)
    ``config``               the experiment: typed, validated, loaded once; ``--set``
    ``seeding``              per-seed random streams
    ``devices``              where the networks run
    ``limits``               what fits in memory, checked before the work
    ``tasks``                the batched tasks: ``two_step`` (Wang 2018), ``episodic`` (Ritter 2018)
    ``models``               LSTM and epLSTM actor-critics, every seed in one module
    ``memory``               the DND (differentiable neural dictionary)
    ``build``                the task, the networks and the memory a config asks for
    ``rollout``              playing a batch of episodes; the A2C loss (the reference engine)
    ``compiled``             the compiled engine's kernels: fused steps, the backward pass
    ``engine``               the two engines, and which one a run uses
    ``train``                the update and the training loop
    ``evaluation``           frozen-weight test episodes, as a trial table
    ``hybrid``               the Daw 2011 hybrid model's equations: to simulate and to score choices
    ``recall``               how much of the right memory a read brings back
    ``agents``               reference agents that need no training
    ``fit``                  the hybrid model fitted to any trial table by maximum likelihood

``analysis/`` trial tables in, numbers and figures out (no torch)
    ``stats``                stay probabilities and regressions; the condition names
    ``readout``              linear read-outs of hidden states (chapter 7)
    ``published``            the papers' numbers, and which run reproduces which panel
    ``report``               our numbers beside theirs, as data and as text
    ``plots``                figures, sized for the book's text column; its style and palette
    ``signature``            the model-based signature of each seed, as one row
    ``diagrams``             the book's diagrams: the task, the meta-RL loop, the epLSTM and DND
    ``maps``                 a sweep's numbers over two of its fields
    ``protocols``            the batched and the paper protocol side by side, along training

``runs/`` trained runs on disk
    ``checkpoints``          saved, read and checked
    ``store``                run folders, the cache of trained runs, snapshots
    ``parallel``             several runs trained side by side, a run's seeds split across cores
    ``placement``            which device ``auto`` means: the faster, measured
    ``sweep``                one experiment at many points of the task family, one table out
    ``cluster``              where a sweep's runs train: Dask, locally or on a cluster
    ``reproduce``            every published panel, ours beside theirs
    ``along``                every panel at every snapshot of a run
    ``bench``                the engines, a naive loop and every device, ms per update

``interfaces/`` the ways in
    ``cli``                  ``python -m twostep`` (``__main__``)
    ``book``                 the chapters' setup, and glue for numbers in their prose
    ``envs``                 Gymnasium environments (``single``, ``vector``, ``recorder``; gym extra)
    ``recurrent_ppo``        in ``envs``: sb3-contrib's RecurrentPPO trained on them (book extra)
    ``env_bench``            the vector environment against the task it wraps
    ``widgets``              browser widgets: ``game``, ``frames``, ``optional`` (book extra)
"""

__version__ = "0.1.0"
