"""Where `raw run noop --json` spends its imports, against noop_plain.py: `python -X importtime`.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python importtime.py [--launches 5] [--top 25]

Runs both in a throw-away project (workflow_overhead.py's ``noop``) ``--launches``
times with ``-X importtime`` and prints, as medians: the total self time of all
imports, that time by top-level package (``raw``, ``pydantic``, ``yaml``, the rest
of the standard library...), and the ``raw`` modules with the largest cumulative
time (a module's own time plus what it imported first). Under load every figure
grows; compare the two columns, not the numbers with another run's.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from workflow_overhead import HERE, compile_kit, launch_env, make_project

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def sample(cmd: list[str], cwd: Path) -> tuple[Counter[str], Counter[str]]:
    """(self microseconds by top-level package, cumulative microseconds by raw module)."""
    err = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, check=True, env=launch_env()
    ).stderr
    by_package: Counter[str] = Counter()
    raw_cumulative: Counter[str] = Counter()
    for match in LINE.finditer(err):
        own, cumulative, module = int(match[1]), int(match[2]), match[4]
        top = module.split(".")[0]
        by_package[top if top in ("raw", "pydantic", "pydantic_core", "yaml") else "other"] += own
        if top == "raw":
            raw_cumulative[module] = cumulative
    return by_package, raw_cumulative


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    py = [sys.executable, "-X", "importtime"]
    commands = {
        "raw run": [*py, "-c", "from raw.cli.main import main; main(['run', 'noop', '--json'])"],
        "plain": [*py, str(HERE / "noop_plain.py"), "--json"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp))
        compile_kit()
        for cmd in commands.values():  # warm: .pyc files, raw's config cache
            subprocess.run(cmd, cwd=root, capture_output=True, check=True, env=launch_env())
        samples: dict[str, list[tuple[Counter[str], Counter[str]]]] = {n: [] for n in commands}
        for _ in range(args.launches):
            for name, cmd in commands.items():
                samples[name].append(sample(cmd, root))
    packages = sorted({p for s in samples.values() for c, _ in s for p in c})
    print(f"self time of imports by package, ms (median of {args.launches}):")
    print(f"  {'package':<16} {'raw run':>9} {'plain':>9}")
    for package in [*packages, "total"]:
        cells = []
        for name in commands:
            values = [
                sum(c.values()) if package == "total" else c[package] for c, _ in samples[name]
            ]
            cells.append(f"{statistics.median(values) / 1000:9.1f}")
        print(f"  {package:<16} {' '.join(cells)}")
    print(f"raw modules by cumulative import time, ms (median of {args.launches}):")
    modules = {m for _, r in samples["raw run"] for m in r}
    medians = {m: statistics.median(r[m] for _, r in samples["raw run"]) for m in modules}
    for module, micro in sorted(medians.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {micro / 1000:8.1f}  {module}")


if __name__ == "__main__":
    main()
