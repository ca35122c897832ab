"""How much the workflow runtime costs, against baselines measured in the same run.

    python benchmarks/workflow_overhead.py [--runs N] [--launches N]

(a) In-process: `raw.run_workflow` of a three-step workflow whose steps do
    nothing (recording included: run folder, manifest written twice, log),
    against calling three plain methods that do nothing. Target: under 2 ms of
    overhead per run.
(b) Start-up: `raw run noop --json` as a subprocess, against
    `python -c "import pydantic"`. Target: a ratio under 2.0. Also shown:
    against `python -c "from pydantic import BaseModel"`, which any workflow's
    own `run.py` pays for, and which modules a `raw run` imports that it must not.
"""

from __future__ import annotations

import argparse
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


def launch(cmd: list[str], cwd: Path, launches: int) -> float:
    times = []
    for _ in range(launches):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--launches", type=int, default=30)
    args = parser.parse_args()
    raw_bin = str(Path(sys.executable).with_name("raw"))
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp))
        ours, base = in_process(root, args.runs)
        overhead_ms = (ours - base) * 1000
        print(f"(a) in-process run_workflow, 3 no-op steps, {args.runs} runs")
        print(f"    run_workflow:        {ours * 1000:8.3f} ms/run")
        print(f"    3 direct calls:      {base * 1000:8.5f} ms/run")
        print(
            f"    overhead:            {overhead_ms:8.3f} ms/run  (target < 2 ms: "
            f"{'met' if overhead_ms < 2 else 'MISSED'})"
        )

        raw_run = launch([raw_bin, "run", "noop", "--json"], root, args.launches)
        import_pydantic = launch([sys.executable, "-c", "import pydantic"], root, args.launches)
        import_model = launch(
            [sys.executable, "-c", "from pydantic import BaseModel"], root, args.launches
        )
        ratio = raw_run / import_pydantic
        print(f"(b) start-up, median of {args.launches} launches")
        print(f"    raw run noop --json:                  {raw_run * 1000:7.1f} ms")
        print(
            f"    python -c 'import pydantic':          {import_pydantic * 1000:7.1f} ms"
            f"   ratio {ratio:.2f} (target < 2.0: {'met' if ratio < 2 else 'MISSED'})"
        )
        print(
            f"    python -c 'from pydantic import BaseModel': {import_model * 1000:7.1f} ms"
            f"   ratio {raw_run / import_model:.2f}"
        )
        loaded = heavy_imports(root)
        print(f"    heavy modules loaded by raw run: {', '.join(loaded) if loaded else 'none'}")


if __name__ == "__main__":
    main()
