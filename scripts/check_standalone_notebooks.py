"""Run each notebook as a Colab user would: alone, against the installed package.

1. Build a wheel of the package and check that it carries its data (``twostep/configs/*.yaml``).
2. Make a fresh virtual environment (no system packages) and install the wheel into it, with
   the pinned versions of requirements.txt (torch included), plus what a Colab runtime
   provides and the notebooks use (ipykernel, nbclient, ipywidgets) and anywidget, which the
   chapters with widgets install on Colab.
3. Copy each notebook, on its own, into an empty folder and execute it there with that
   environment's kernel: no repository around it, no ``runs/`` cache, no ``PYTHONPATH``. A
   notebook that reads a repository file, an existing trained run, or counts on its working
   directory fails here. The chapters that train do so at their full budget.

The Colab install cell itself (``%pip install "twostep @ git+URL"``) runs only on Colab; here
the wheel stands in for it.

Usage, from the repository root::

    python scripts/check_standalone_notebooks.py                       # every notebook
    python scripts/check_standalone_notebooks.py notebooks/0[1-5]_*.ipynb --jobs 2

Each cell may run ``--timeout`` seconds, or what the notebook's own metadata allows
(``execution.timeout``, as nbmake reads it).

Exit status: 0 when every notebook runs, 1 when one fails, 2 on bad input or a failed setup.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Packages a Colab runtime has and the notebooks use, beyond the package's own dependencies,
# and anywidget, which the chapters with widgets (1 and 4) install beside the package on Colab.
RUNTIME = ["ipykernel", "nbclient", "nbformat", "ipywidgets", "anywidget"]

EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
path, timeout = sys.argv[1], int(sys.argv[2])
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=timeout, kernel_name="python3",
               resources={"metadata": {"path": "."}}).execute()
"""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)


def build_wheel(out: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)])
    wheel = next(out.glob("twostep-*.whl"))
    inside = set(zipfile.ZipFile(wheel).namelist())
    configs = {f"twostep/configs/{p.name}" for p in (ROOT / "twostep" / "configs").glob("*.yaml")}
    missing = sorted(configs - inside)
    if not configs or missing:
        raise SystemExit(f"error: the wheel lacks package data: {missing or 'no configs found'}")
    print(f"wheel: {wheel.name}, {len(configs)} configs inside")
    return wheel


def make_venv(venv: Path, wheel: Path) -> Path:
    """A fresh environment with the wheel, the pinned dependencies and a kernel."""
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    pins = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-e"))]
    constraints = venv / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(constraints), str(wheel), *RUNTIME])
    return python


def cell_timeout(notebook: Path, default: int) -> int:
    """The notebook's own per-cell limit (``metadata.execution.timeout``), else ``default``."""
    metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    return int(metadata.get("execution", {}).get("timeout", default))


def execute_alone(notebook: Path, python: Path, timeout: int) -> tuple[bool, float, str]:
    """Execute a copy of ``notebook`` in an empty folder; (passed, seconds, last error line)."""
    timeout = cell_timeout(notebook, timeout)
    folder = Path(tempfile.mkdtemp(prefix=f"{notebook.stem}-"))
    shutil.copy(notebook, folder / notebook.name)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TWOSTEP_RUNS", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    started = time.monotonic()
    result = subprocess.run([str(python), "-c", EXECUTE, notebook.name, str(timeout)],
                            cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    lines = [line for line in result.stderr.splitlines() if line.strip()
             and "running over TCP without encryption" not in line]
    error = next((line for line in reversed(lines) if "Error" in line), lines[-1] if lines else "")
    if result.returncode == 0:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        error = f"{error} (left in {folder})"
    return result.returncode == 0, seconds, error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook in notebooks/)")
    parser.add_argument("--timeout", type=int, default=300,
                        help="per-cell limit, seconds, where a notebook sets none")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks executed at once (each kernel uses one core)")
    parser.add_argument("--venv", type=Path,
                        help="reuse this environment (made by an earlier run) instead of a new one")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if p.suffix != ".ipynb" or not p.is_file()]
    if missing or args.timeout < 1 or args.jobs < 1:
        problem = (f"no such notebook: {', '.join(missing)}" if missing
                   else "--timeout and --jobs must be >= 1")
        print(f"error: {problem}", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="twostep-standalone-"))
    started = time.monotonic()
    try:
        if args.venv and (args.venv / "bin" / "python").is_file():
            python = args.venv / "bin" / "python"
        else:
            wheel = build_wheel(work / "wheel")
            python = make_venv(args.venv or work / "venv", wheel)
    except subprocess.CalledProcessError as error:
        print(f"error: setup failed: {' '.join(map(str, error.cmd))[:200]}", file=sys.stderr)
        return 2
    print(f"environment ready in {time.monotonic() - started:.0f} s")

    def execute(notebook: Path) -> bool:
        passed, seconds, error = execute_alone(notebook.resolve(), python, args.timeout)
        print(f"{notebook.name}: {'ok' if passed else 'FAILED'} in {seconds:.0f} s"
              + ("" if passed else f": {error}"), flush=True)
        return passed

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each job waits on a kernel
        failed = sum(not passed for passed in pool.map(execute, notebooks))
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(notebooks) - failed} of {len(notebooks)} notebooks ran standalone "
          f"({time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
