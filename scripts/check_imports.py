"""The package's import graph has no cycle, and every module imports on its own.

Reads every ``twostep`` module's imports (top level and inside functions) with
:mod:`ast`, looks for a cycle, prints the layers (each module after everything it
imports) and the line count of every module, then imports each module alone in a
fresh interpreter (several at once, one per core). The layer contracts themselves are
import-linter's (``lint-imports``, configured in pyproject.toml); this adds what it does not
check: no cycle anywhere, even within a layer, and no module that only imports after another.

    python scripts/check_imports.py          # exit 1 on a cycle or a failed import
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "twostep"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules that ``path`` imports (``from twostep import x`` counts x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in modules}
    found.discard(module_name(path))
    return found


def main() -> int:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    graph = {module_name(p): imports_of(p, modules) for p in paths}
    # a package's __init__ may import its submodules; submodules importing the package
    # itself (``twostep``) is the parent being loaded, not a cycle
    for name in graph:
        graph[name] = {d for d in graph[name] if not name.startswith(d + ".")}
    layers, placed = [], set()
    while len(placed) < len(graph):
        layer = sorted(n for n in graph if n not in placed and graph[n] <= placed)
        if not layer:
            stuck = sorted(n for n in graph if n not in placed)
            print(f"import cycle among: {', '.join(stuck)}")
            return 1
        layers.append(layer)
        placed |= set(layer)
    for depth, layer in enumerate(layers):
        print(f"layer {depth}: {', '.join(layer)}")
    print("no import cycle")
    for path in paths:
        print(f"{len(path.read_text().splitlines()):5d}  {module_name(path)}")
    names = [name for name in sorted(graph) if name != "twostep.__main__"]  # that runs the CLI
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        codes = pool.map(lambda name: subprocess.run([sys.executable, "-c", f"import {name}"],
                                                     capture_output=True).returncode, names)
    failed = [name for name, code in zip(names, codes, strict=True) if code != 0]
    print("every module imports alone" if not failed else f"FAILED alone: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
