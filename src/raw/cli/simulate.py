"""`raw simulate`: run a system's scenarios on simulated time, with a readable timeline.

Each scenario runs the real coordinator app, database, worker and local
integrations against Temporal's time-skipping server, in a fresh folder under
``.raw/simulate/``. Exit 0 when every scenario passes, 1 on the first failed
step of any (the others still run), 2 for a malformed scenario (the error names
the step and the field).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from raw import clock
from raw import console as output
from raw.errors import RawError, UsageError
from raw.ids import new_run_id
from raw.local_state import SIMULATE_DIR
from raw.project import find_project

if TYPE_CHECKING:
    from raw.simulate.runner import ScenarioResult, StepOutcome

EXAMPLES = """\
examples:
  raw simulate scenarios/happy-path.yaml
  raw simulate scenarios/*.yaml --json
  raw simulate scenarios/*.yaml --record     (histories for raw temporal replay)
  raw simulate --schema > scenario.schema.json"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario files (YAML)")
    parser.add_argument(
        "--schema", action="store_true", help="print the scenario format's JSON Schema and exit"
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="save the history of every process a passing scenario reached into "
        ".raw/histories (what `raw temporal replay`, the temporal-validate gate, replays)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the system's database, e.g. an empty PostgreSQL database (default: a new SQLite "
        "file per scenario); every scenario runs on it, so give one scenario or an empty "
        "database each time",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each run's folder (database, emails, runs) under .raw/simulate/",
    )
    parser.set_defaults(handler=cmd_simulate)


def _time(outcome: StepOutcome) -> str:
    # Lazy: raw --help imports this module; only raw simulate needs it.
    from raw.simulate.runner import stamp

    return stamp(outcome.at)


def _print_step(outcome: StepOutcome) -> None:
    mark = output.style("ok  ", "32") if outcome.ok else output.style("FAIL", "1;31")
    print(f"  [{_time(outcome)}] {mark} {outcome.summary}", flush=True)
    for problem in outcome.problems:
        print(f"        - {problem}", flush=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw simulate needs it.
    from raw.simulate.preflight import check_against_system
    from raw.simulate.runner import run_scenario
    from raw.simulate.scenario import load_scenario, scenario_json_schema

    if args.schema:
        print(json.dumps(scenario_json_schema(), indent=2))
        return output.OK
    try:
        if not args.scenarios:
            raise UsageError("Name at least one scenario file, e.g. raw simulate scenarios/*.yaml")
        project = find_project(args.project_dir)
        scenarios = [(path, load_scenario(path)) for path in args.scenarios]
        for path, scenario in scenarios:  # before anything starts: exit 2, not 1
            check_against_system(scenario, project, path)
    except RawError as exc:
        output.fail(exc, as_json=args.json)

    results: list[ScenarioResult] = []

    async def main() -> None:
        for path, scenario in scenarios:
            workdir = project.raw_dir / SIMULATE_DIR / new_run_id(clock.now())
            if not args.json:
                print(output.style(f"{scenario.name}", "1") + f"  ({path})", flush=True)
            result = await run_scenario(
                project,
                scenario,
                workdir=workdir,
                path=str(path),
                on_step=None if args.json else _print_step,
                record_histories=args.record,
                database_url=args.database_url,
            )
            results.append(result)
            if not args.json:
                if result.error:
                    print(output.style("  Error: ", "1;31") + result.error, flush=True)
                verdict = (
                    output.style("passed", "32")
                    if result.passed
                    else output.style("FAILED", "1;31")
                )
                print(f"  {verdict} in {result.wall_seconds:.2f} s", flush=True)
                for saved in result.histories:
                    print(f"  history saved: {Path(saved).relative_to(project.root)}", flush=True)
                print(flush=True)
            if not args.keep and result.passed:
                shutil.rmtree(workdir, ignore_errors=True)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        code = output.INTERRUPTED
    else:
        code = output.OK if results and all(r.passed for r in results) else output.FAILED
    if args.json:
        output.emit_json(
            {
                "passed": code == output.OK,
                "scenarios": [r.model_dump(mode="json") for r in results],
            }
        )
    elif len(results) > 1:
        passed = sum(r.passed for r in results)
        print(f"{passed} of {len(results)} scenarios passed.")
    output.leave(code)  # temporalio's runtime can abort at interpreter exit (NOTES.md)
