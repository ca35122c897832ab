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
from pathlib import Path
from typing import TYPE_CHECKING

from raw import console as output
from raw.errors import RawError
from raw.project import find_project

if TYPE_CHECKING:
    from raw.project import Project
    from raw.simulate.runner import ScenarioResult, StepOutcome
    from raw.simulate.scenario import Scenario

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
    from raw.commands.simulate import load_checked, simulate_document
    from raw.simulate.scenario import scenario_json_schema

    if args.schema:
        print(json.dumps(scenario_json_schema(), indent=2))
        return output.OK
    try:
        project = find_project(args.project_dir)
        load_checked(project, args.scenarios)  # before anything starts: exit 2, not 1
    except RawError as exc:
        output.fail(exc, as_json=args.json)

    def scenario_started(path: str, scenario: Scenario) -> None:
        print(output.style(f"{scenario.name}", "1") + f"  ({path})", flush=True)

    def scenario_done(result: ScenarioResult, project: Project) -> None:
        if result.error:
            print(output.style("  Error: ", "1;31") + result.error, flush=True)
        verdict = output.style("passed", "32") if result.passed else output.style("FAILED", "1;31")
        print(f"  {verdict} in {result.wall_seconds:.2f} s", flush=True)
        for saved in result.histories:
            print(f"  history saved: {Path(saved).relative_to(project.root)}", flush=True)
        print(flush=True)

    human = not args.json
    try:
        done = asyncio.run(
            simulate_document(
                project.root,
                args.scenarios,
                record=args.record,
                database_url=args.database_url,
                keep=args.keep,
                on_scenario=scenario_started if human else None,
                on_step=_print_step if human else None,
                on_result=scenario_done if human else None,
            )
        )
    except KeyboardInterrupt:
        output.leave(output.INTERRUPTED)
    except RawError as exc:
        output.fail_and_leave(exc, as_json=args.json)
    if args.json:
        output.emit_json(done.body)
    elif len(done.body["scenarios"]) > 1:
        scenarios = done.body["scenarios"]
        passed = sum(s["passed"] for s in scenarios)
        print(f"{passed} of {len(scenarios)} scenarios passed.")
    output.leave(done.exit_code)  # temporalio's runtime can abort at interpreter exit (NOTES.md)
