"""Where a sweep's runs train: Dask, on this machine's cores or on a cluster.

The package schedules nothing itself: Dask's scheduler hands the runs to workers, notices a
worker that dies and gives its run to another, and scales from a laptop to a cluster.
``engine`` says which Dask:

* ``"local"`` (the default): a :class:`distributed.LocalCluster` of one worker process per
  core (``workers`` to choose), one thread each, started here and stopped at the end;
* an address such as ``"tcp://10.0.0.5:8786"``: a running Dask scheduler, whose workers
  must have this package installed and see the same runs folder (a shared file system);
* from Python, a :class:`distributed.Client` or any Dask cluster object, for instance a
  ``dask_jobqueue.SLURMCluster`` (the README shows the SLURM recipe).

Every run is one Dask task that holds one worker, and a worker is handed one task at a time
(``worker-saturation`` 1.0), so a worker that dies loses only the run it was training. The
scheduler then gives that run to another worker (the local cluster also restarts the dead
one), where it resumes from its last checkpoint; after
``distributed.scheduler.allowed-failures`` deaths (3) the run is reported failed. Workers
report their progress as Dask events (:func:`progress_reporter`), which the caller folds
into one progress bar.

Dask is the optional ``sweep`` extra: it is imported only when a sweep runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from twostep.errors import TwostepError

PROGRESS_TOPIC = "twostep-progress"
"""The Dask event topic on which workers report ``{"key": task key, "update": n}``."""

DASK_MISSING = ("sweeps run on Dask, which is not installed: pip install 'twostep[sweep]' "
                "(or pip install -r requirements.txt)")

# How often the caller looks at finished tasks and progress, and how often a worker reports.
POLL_SECONDS = 0.25
REPORT_SECONDS = 0.5


def _distributed():
    try:
        import distributed
    except ImportError:
        raise TwostepError(DASK_MISSING) from None
    return distributed


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own warnings (a worker restarted, a task cancelled on Ctrl-C) say nothing the
    sweep does not report itself; keep them off the terminal while a local cluster runs."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    # the worker processes configure their logging from Dask's config, read from the
    # environment when they start
    variable = "DASK_LOGGING__DISTRIBUTED"
    previous = os.environ.get(variable)
    os.environ.setdefault(variable, "error")
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if previous is None:
            os.environ.pop(variable, None)


@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator[Any]:
    """A :class:`distributed.LocalCluster` of ``workers`` processes (default: one per core),
    one thread and one task at a time each, quiet; closed on the way out."""
    distributed = _distributed()
    import dask

    if workers is not None and workers < 1:
        raise TwostepError(f"workers must be at least 1, got {workers}")
    settings = {"distributed.scheduler.worker-saturation": 1.0,
                "distributed.worker.preload": [__name__]}  # runs dask_setup in each worker
    with _quiet_dask(), dask.config.set(settings), \
            distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                     threads_per_worker=1, processes=True,
                                     dashboard_address=None,
                                     # no dashboard, and the scheduler's web routes on a free
                                     # port (its default, 8787, may be another user's)
                                     scheduler_kwargs={"dashboard": False,
                                                       "dashboard_address": "127.0.0.1:0"}
                                     ) as cluster:
        try:
            yield cluster
        except KeyboardInterrupt:
            _stop_workers_now(cluster)
            raise


def _stop_workers_now(cluster: Any) -> None:
    """On Ctrl-C, end the local workers at once rather than after the points they train:
    checkpoints are written atomically and a run's lock dies with its process, so nothing is
    lost but the updates since the last checkpoint, and the same command resumes."""
    for nanny in list(cluster.workers.values()):
        pid = getattr(nanny, "pid", None)
        if pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def dask_setup(worker: Any) -> None:
    """Run by Dask in each worker process of :func:`local_cluster` as it starts (a preload):
    Ctrl-C in a terminal reaches every process of the group, and it is the caller's to
    handle (it stops the cluster); a worker that took it too would end with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def dask_client(engine: Any = "local", workers: int | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client` for ``engine`` (see the module doc); a local cluster
    started here is stopped on the way out, also on Ctrl-C or an error."""
    distributed = _distributed()
    if isinstance(engine, distributed.Client):
        yield engine
        return
    with contextlib.ExitStack() as stack:
        if engine == "local":
            cluster = stack.enter_context(local_cluster(workers))
            client = stack.enter_context(distributed.Client(cluster))
        elif isinstance(engine, str):
            try:
                client = stack.enter_context(distributed.Client(engine, timeout="20s"))
            except (OSError, TimeoutError, ValueError) as err:
                reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
                raise TwostepError(f"--engine {engine}: no Dask scheduler answered there "
                                   f"({reason}); give 'local' or a running scheduler's "
                                   "address, e.g. tcp://10.0.0.5:8786") from None
        elif hasattr(engine, "scheduler_address"):  # a Dask cluster object (SLURMCluster, ...)
            client = stack.enter_context(distributed.Client(engine))
        else:
            raise TwostepError(f"engine must be 'local', a scheduler address, a Dask Client or "
                               f"cluster, not {engine!r}")
        yield client


def progress_reporter(key: str) -> Callable[[int], None] | None:
    """In a Dask worker, a callback that reports ``update`` on :data:`PROGRESS_TOPIC` at most
    every :data:`REPORT_SECONDS`; outside one (Dask absent or not a worker), None."""
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return None
    last = [0.0]

    def report(update: int) -> None:
        now = time.monotonic()
        if now - last[0] >= REPORT_SECONDS:
            last[0] = now
            worker.log_event(PROGRESS_TOPIC, {"key": key, "update": update})
    return report


def run_tasks(client: Any, function: Callable, tasks: Mapping[str, tuple],
              on_progress: Callable[[str, int], None],
              on_done: Callable[[str, Any, BaseException | None], None]) -> None:
    """Run ``function(*args)`` for each ``{key: args}`` of ``tasks`` on ``client``'s workers.

    ``on_progress(key, update)`` is called (in this thread) with the workers' reports,
    ``on_done(key, result, error)`` once per task as it ends, in the order they end; an
    error is the task's exception, or Dask's ``KilledWorker`` for a task whose workers died
    too often. Stopping this call (Ctrl-C) cancels the tasks not yet finished.
    """
    distributed = _distributed()
    reports: list[tuple[str, int]] = []  # appended by Dask's thread, read by this one

    def receive(event: tuple[float, dict]) -> None:
        message = event[1]
        reports.append((message["key"], message["update"]))

    client.subscribe_topic(PROGRESS_TOPIC, receive)
    futures = {client.submit(function, *args, key=key, pure=False): key
               for key, args in tasks.items()}
    try:
        pending = distributed.as_completed(list(futures))
        while not pending.is_empty():
            finished = pending.next_batch(block=False)
            while reports:
                on_progress(*reports.pop(0))
            for future in finished:
                error = future.exception()
                on_done(futures[future], None if error else future.result(), error)
            if not finished:
                time.sleep(POLL_SECONDS)
    finally:
        client.unsubscribe_topic(PROGRESS_TOPIC)
        unfinished = [future for future in futures if not future.done()]
        if unfinished:
            client.cancel(unfinished)
