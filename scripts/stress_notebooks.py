"""Execute notebooks again and again, under CPU load, and count the stalls.

A *stall* is a cell whose reply the client did not read until long after the kernel had
finished it. nbclient (the client of nbmake and of the book build) waits for two things per
cell: the ``execute_reply`` on the shell channel and ``status: idle`` on IOPub. In a stall the
kernel has gone idle, the reply lies in the client's socket, and the client's wait only ends
when the per-cell timeout fires: it then finds the reply and goes on, so the stall costs the
whole timeout without failing. The script counts a cell as stalled when its reply is read more
than ``LATE_REPLY`` seconds after the idle, or when the cell times out. For each one it prints
the cell and when each message arrived; ``--log-dir`` also writes every message received.

The cause found with it: nbclient stands in for ipywidgets' ``Output`` widget (``interact``
uses one) and, when that widget captures output, writes the widget's state back to the kernel
on the shell channel. jupyter_client sends that message raw on the asyncio socket's underlying
ZeroMQ socket, which can consume the socket's edge-triggered wake-up for an ``execute_reply``
arriving at that moment, so the client's wait for the reply sleeps until the timeout.
``--no-output-widgets`` turns the stand-in off, to check this on a given notebook.

Usage, from the repository root::

    python scripts/stress_notebooks.py notebooks/01_two_step_task.ipynb \\
        notebooks/04_episodic_two_step_task.ipynb --runs 40 --load 2 --timeout 120

``--load K`` runs K CPU-bound processes (a busy loop each) for the whole time, as on a shared
2-core CI machine. Each run executes the notebook in its own folder (as nbmake does), in a
fresh kernel. Exit status: 0 when no run stalled or failed, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import signal
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def _busy(stop: multiprocessing.synchronize.Event) -> None:
    """Burn one core until told to stop."""
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x = (x * 31 + 7) % 1_000_003


# A reply read this long after the kernel reported idle was waiting unnoticed in the client.
LATE_REPLY = 10.0


class RecordingClient(NotebookClient):
    """A NotebookClient that remembers every message it receives, with its arrival time."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[dict] = []
        self.sent: list[dict] = []  # execute_requests, in order
        self.slowest: tuple[int, float, str] = (-1, 0.0, "")  # cell index, seconds, timeline
        self.late: tuple[int, float, str] | None = None  # first late reply: cell, lag, timeline

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        for name in ("shell", "iopub"):
            channel = getattr(kc, f"{name}_channel")
            channel.get_msg = self._recorded(name, channel.get_msg)
        execute = kc.execute

        def recorded_execute(*args, **kwargs):
            msg_id = execute(*args, **kwargs)
            self.sent.append({"t": time.monotonic(), "msg_id": msg_id})
            return msg_id
        kc.execute = recorded_execute
        return kc

    def _recorded(self, channel: str, get_msg):
        async def get(*args, **kwargs):
            msg = await get_msg(*args, **kwargs)
            content = msg.get("content", {})
            self.received.append({
                "t": time.monotonic(), "channel": channel, "type": msg["msg_type"],
                "parent": msg.get("parent_header", {}).get("msg_id"),
                "sent": str(msg.get("header", {}).get("date")),
                "state": content.get("execution_state"), "status": content.get("status"),
                "comm": content.get("comm_id"), "method": content.get("data", {}).get("method")
                if isinstance(content.get("data"), dict) else None,
            })
            return msg
        return get

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        self._cell_index = cell_index
        started = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        finally:
            if cell.cell_type == "code" and self.sent:
                seconds = time.monotonic() - started
                if seconds > self.slowest[1]:
                    self.slowest = (cell_index, seconds, _timeline(self, self.sent[-1]))
                lag = _reply_lag(self, self.sent[-1])
                if lag > LATE_REPLY and self.late is None:
                    self.late = (cell_index, lag, _timeline(self, self.sent[-1]))


def run_once(path: Path, timeout: int, kernel: str, log: Path | None, label: str,
             output_widgets: bool = True) -> dict:
    """Execute one notebook in a fresh kernel; return what happened."""
    nb = nbformat.read(path, as_version=4)
    client = RecordingClient(nb, timeout=timeout, kernel_name=kernel,
                             resources={"metadata": {"path": str(path.parent)}})
    if not output_widgets:
        # No client-side stand-in for ipywidgets' Output widget: the client then never
        # writes to the kernel's shell channel while a cell runs.
        client.widget_registry = {}
    started = time.monotonic()
    outcome, cell, detail = "ok", None, ""
    try:
        client.execute()
    except CellTimeoutError as error:
        outcome, detail = "stall", str(error).splitlines()[0]
    except (CellExecutionError, DeadKernelError) as error:
        outcome, detail = "error", str(error).strip().splitlines()[-1][:200]
    seconds = time.monotonic() - started
    if outcome != "ok":
        cell = getattr(client, "_cell_index", None)
        detail = f"{detail} | {_diagnose(client)}"
        if log is not None:
            log.mkdir(parents=True, exist_ok=True)
            (log / f"{label}.json").write_text(json.dumps(client.received, indent=1))
    index, slowest, timeline = client.slowest
    if outcome == "ok" and client.late is not None:
        # nbclient's poll gives up at the cell timeout, finds the reply waiting and goes on:
        # a stall that costs the whole timeout without failing.
        outcome, cell = "stall", client.late[0]
        detail = (f"(reply read {client.late[1]:.1f} s after the kernel went idle: "
                  f"{client.late[2]})")
    elif outcome == "ok" and slowest > 0:
        detail = f"(slowest: cell {index}, {slowest:.1f} s: {timeline})"
    return {"outcome": outcome, "cell": cell, "seconds": seconds, "detail": detail,
            "slowest": (index, slowest)}


def _reply_lag(client: RecordingClient, request: dict) -> float:
    """Seconds from the kernel's ``idle`` for ``request`` to the client reading its reply."""
    mine = [m for m in client.received if m["parent"] == request["msg_id"]]
    idle = [m["t"] for m in mine if m["type"] == "status" and m["state"] == "idle"]
    reply = [m["t"] for m in mine if m["type"] == "execute_reply"]
    return reply[0] - idle[0] if idle and reply else 0.0


def _timeline(client: RecordingClient, request: dict) -> str:
    """When each message answering ``request`` arrived, in seconds after it was sent."""
    mine = [m for m in client.received if m["parent"] == request["msg_id"]]
    steps = [f"{m['state'] or m['type']}@{m['t'] - request['t']:.1f}" for m in mine
             if m["type"] in ("status", "execute_input", "execute_reply")]
    comms = sum(m["type"].startswith("comm") for m in mine)
    return " ".join(steps) + f" ({len(mine)} messages, {comms} comm)"


def _diagnose(client: RecordingClient) -> str:
    """What the client had and had not received for the last execute_request."""
    if not client.sent:
        return "no execute_request sent"
    last = client.sent[-1]["msg_id"]
    mine = [m for m in client.received if m["parent"] == last]
    seen = {m["type"] if m["type"] != "status" else f"status:{m['state']}" for m in mine}
    missing = [t for t in ("status:busy", "execute_input", "execute_reply", "status:idle")
               if t not in seen]
    after = [m for m in client.received if m["t"] > client.sent[-1]["t"] and m["parent"] != last]
    return (f"last request got {len(mine)} messages, missing: {', '.join(missing) or 'none'}; "
            f"{len(after)} other messages after it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=10, help="executions per notebook")
    parser.add_argument("--load", type=int, default=2, help="CPU-bound processes beside")
    parser.add_argument("--timeout", type=int, default=120, help="per-cell limit, seconds")
    parser.add_argument("--kernel", default="python3", help="kernel name")
    parser.add_argument("--no-output-widgets", action="store_true",
                        help="turn off nbclient's Output-widget emulation (a diagnostic)")
    parser.add_argument("--log-dir", type=Path, help="write the messages of failed runs here")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing or args.runs < 1 or args.load < 0 or args.timeout < 1:
        problem = (f"no such notebook: {', '.join(missing)}" if missing
                   else "--runs and --timeout must be >= 1, --load >= 0")
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if sys.platform != "win32":
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the load on `kill` too
    stop = multiprocessing.Event()
    loaders = [multiprocessing.Process(target=_busy, args=(stop,), daemon=True)
               for _ in range(args.load)]
    for process in loaders:
        process.start()
    results: dict[Path, list[dict]] = {p: [] for p in args.notebooks}
    try:
        for run in range(args.runs):
            for path in args.notebooks:
                result = run_once(path.resolve(), args.timeout, args.kernel, args.log_dir,
                                  f"{path.stem}-run{run + 1}", not args.no_output_widgets)
                results[path].append(result)
                where = "" if result["cell"] is None else f" at cell {result['cell']}"
                print(f"run {run + 1}/{args.runs} {path.name}: {result['outcome']}{where}, "
                      f"{result['seconds']:.1f} s {result['detail']}".rstrip(), flush=True)
    finally:
        stop.set()
        for process in loaders:
            process.join(timeout=5)

    print(f"\nload: {args.load} busy processes; per-cell timeout {args.timeout} s")
    print(f"{'notebook':40} {'runs':>4} {'stalls':>6} {'errors':>6} {'median s':>9} {'max s':>7}"
          "  stalled cells")
    bad = 0
    for path, rows in results.items():
        stalls = [r for r in rows if r["outcome"] == "stall"]
        errors = [r for r in rows if r["outcome"] == "error"]
        bad += len(stalls) + len(errors)
        times = [r["seconds"] for r in rows]
        cells = ",".join(str(r["cell"]) for r in stalls) or "-"
        print(f"{path.name:40} {len(rows):4d} {len(stalls):6d} {len(errors):6d} "
              f"{statistics.median(times):9.1f} {max(times):7.1f}  {cells}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
