"""The package's import graph has no cycle, and every module imports on its own.

Reads every ``twostep`` module's imports (top level and inside functions) with
:mod:`ast`, looks for a cycle, prints the layers (each module after everything it
imports) and the line count of every module, then imports each module alone in a
fresh interpreter.

    python scripts/check_imports.py          # exit 1 on a cycle or a failed import
"""

from __future__ import annotations

import ast
import subprocess
import sys
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
    failed = [name for name in sorted(graph) if name != "twostep.__main__"  # runs the CLI
              if subprocess.run([sys.executable, "-c", f"import {name}"],
                                capture_output=True).returncode != 0]
    print("every module imports alone" if not failed else f"FAILED alone: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
