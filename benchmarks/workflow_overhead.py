"""How much the workflow runtime costs, against baselines measured in the same run.

    python benchmarks/workflow_overhead.py [--runs N] [--rounds N] [--launches N] [--quick] [--json]

(a) In-process: `raw.run_workflow` of a three-step workflow whose steps do
    nothing (recording included: run folder, manifest, log),
    against calling three plain methods that do nothing. Target: under 2 ms of
    overhead per run.
(b) Start-up: `raw run noop --json` as a subprocess, against the honest baseline,
    noop_plain.py: a plain script with the same one-model Params, the same flags
    parsed with argparse, validated with Pydantic, printing the same JSON (issue 20's
    target: at most 1.15x). Also against the old, weak baselines, `python -c "import
    pydantic"` (the first target: under 2.0) and `python -c "from pydantic import
    BaseModel"`, and which modules a `raw run` imports that it must not. The commands
    take turns (``--rounds`` rounds of ``--launches`` launches each, in alternating
    order); a round's figure is the median of its launches and the ratios are taken
    per round, reported as the median of the rounds with their spread.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WORKFLOW = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    n: int = 1


class Noop(BaseWorkflow[Params]):
    @step("one")
    def one(self) -> None:
        pass

    @step("two")
    def two(self) -> None:
        pass

    @step("three")
    def three(self) -> int:
        return self.params.n
"""

HERE = Path(__file__).resolve().parent
FORBIDDEN = ("fastapi", "temporalio", "sqlalchemy", "httpx", "pydantic_settings", "uvicorn")


class Plain:
    def one(self) -> None:
        pass

    def two(self) -> None:
        pass

    def three(self) -> int:
        return 1


def make_project(root: Path) -> Path:
    folder = root / ".raw" / "workflows" / "noop"
    folder.mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text("version: 1\n")
    (folder / "run.py").write_text(textwrap.dedent(WORKFLOW))
    return root


def in_process(root: Path, runs: int) -> tuple[float, float]:
    from raw import run_workflow

    for _ in range(50):  # warm up: import, caches
        assert run_workflow("noop", {"n": 1}, project_dir=root).ok
    t0 = time.perf_counter()
    for _ in range(runs):
        run_workflow("noop", {"n": 1}, project_dir=root)
    ours = (time.perf_counter() - t0) / runs
    plain = Plain()
    t0 = time.perf_counter()
    for _ in range(runs):
        plain.one()
        plain.two()
        plain.three()
    base = (time.perf_counter() - t0) / runs
    return ours, base


def compile_kit() -> None:
    """Write the kit's bytecode (``__pycache__``), as ``pip install`` does for a wheel.

    Without it every launch compiles each of the ~40 modules ``raw run`` imports (~40
    ms here), while the plain script's Pydantic comes compiled from site-packages: a
    shell with ``PYTHONDONTWRITEBYTECODE=1`` (ours have it) never writes the cache, and
    the old figures charged that compilation to ``raw run``.
    """
    spec = importlib.util.find_spec("raw")  # the kit the launches import (PYTHONPATH)
    assert spec is not None and spec.submodule_search_locations
    compileall.compile_dir(spec.submodule_search_locations[0], quiet=1)


def launch_env() -> dict[str, str]:
    """The environment of every launch: as a user's, so a workflow's ``run.py`` is compiled
    once and then read from its ``__pycache__`` (the plain script, run as ``__main__``, is
    compiled on every launch whatever the setting)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def launch_once(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=launch_env())
    return time.perf_counter() - t0


def start_up(commands: dict[str, list[str]], cwd: Path, rounds: int, launches: int) -> dict:
    """Per round, each command's median of ``launches`` launches, the commands interleaved
    (A B C, C B A, ...) so a change in the machine's load falls on all of them."""
    compile_kit()
    for cmd in commands.values():  # warm up: the page cache, .pyc files, raw's config cache
        launch_once(cmd, cwd)
    per_round: dict[str, list[float]] = {name: [] for name in commands}
    loads = []
    for round_no in range(rounds):
        loads.append(os.getloadavg()[0])
        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for i in range(launches):
            for name in names if (round_no + i) % 2 == 0 else names[::-1]:
                times[name].append(launch_once(commands[name], cwd))
        for name in commands:
            per_round[name].append(statistics.median(times[name]))
        print(
            f"    round {round_no + 1} (load average {loads[-1]:.2f}): "
            + ", ".join(f"{name} {per_round[name][-1] * 1000:.1f} ms" for name in commands)
            + f"; raw / plain {per_round['raw'][-1] / per_round['plain'][-1]:.2f}",
            flush=True,
        )
    return {"seconds": per_round, "load_average": loads}


def spread(values: list[float], fmt: str = ".2f") -> str:
    return (
        f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}};"
        f" rounds {', '.join(f'{v:{fmt}}' for v in values)})"
    )


def heavy_imports(root: Path) -> list[str]:
    code = (
        "import sys\nfrom raw.cli.main import main\n"
        "try:\n    main(['run', 'noop', '--json'])\nexcept SystemExit:\n    pass\n"
        f"print('loaded:' + ','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return [m for m in out.removeprefix("loaded:").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2000, help="(a) in-process runs")
    parser.add_argument("--rounds", type=int, default=5, help="(b) rounds")
    parser.add_argument("--launches", type=int, default=6, help="(b) launches per round")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="make bench's version: --runs 300 --rounds 3 --launches 4",
    )
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.rounds, args.launches = 300, 3, 4
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run(args)
    if args.json:
        print(json.dumps(result))


def run(args: argparse.Namespace) -> dict:
    raw_bin = str(Path(sys.executable).with_name("raw"))
    result: dict = {"benchmark": "workflow_overhead"}
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp))
        ours, base = in_process(root, args.runs)
        overhead_ms = (ours - base) * 1000
        result["in_process"] = {
            "run_workflow_ms": ours * 1000,
            "direct_calls_ms": base * 1000,
            "overhead_ms": overhead_ms,
        }
        print(f"(a) in-process run_workflow, 3 no-op steps, {args.runs} runs")
        print(f"    run_workflow:        {ours * 1000:8.3f} ms/run")
        print(f"    3 direct calls:      {base * 1000:8.5f} ms/run")
        print(
            f"    overhead:            {overhead_ms:8.3f} ms/run  (target < 2 ms: "
            f"{'met' if overhead_ms < 2 else 'MISSED'})"
        )

        commands = {
            "raw": [raw_bin, "run", "noop", "--json"],
            "plain": [sys.executable, str(HERE / "noop_plain.py"), "--json"],
            "import_pydantic": [sys.executable, "-c", "import pydantic"],
            "from_pydantic": [sys.executable, "-c", "from pydantic import BaseModel"],
        }
        print(
            f"(b) start-up: {args.rounds} rounds, each the median of {args.launches} launches "
            "of each command, in turns"
        )
        found = start_up(commands, root, args.rounds, args.launches)
        seconds = found["seconds"]
        result["start_up"] = found
        result["start_up"]["ratios"] = {}
        print(f"    medians of {args.rounds} rounds (min-max; each round):")
        for name, label in (
            ("raw", "raw run noop --json"),
            ("plain", "noop_plain.py --json (honest baseline)"),
            ("import_pydantic", "python -c 'import pydantic' (old baseline)"),
            ("from_pydantic", "python -c 'from pydantic import BaseModel'"),
        ):
            print(f"    {label:<44} {spread([v * 1000 for v in seconds[name]], '.1f')} ms")
        for name, target in (("plain", 1.15), ("import_pydantic", 2.0), ("from_pydantic", None)):
            values = [r / b for r, b in zip(seconds["raw"], seconds[name], strict=True)]
            median = statistics.median(values)
            result["start_up"]["ratios"][name] = {
                "median": median,
                "min": min(values),
                "max": max(values),
                "rounds": values,
                "target_max": target,
            }
            verdict = ""
            if target is not None:
                verdict = f"  (target <= {target}: {'met' if median <= target else 'MISSED'})"
            print(f"    ratio raw / {name:<16} {spread(values)}{verdict}")
        loaded = heavy_imports(root)
        result["heavy_modules"] = loaded
        print(f"    heavy modules loaded by raw run: {', '.join(loaded) if loaded else 'none'}")
    return result


if __name__ == "__main__":
    main()
