"""CPU of one RAW call as the activity's thread makes it, without Temporal around it.

    python benchmarks/activity_call.py [--runs 1000] [--rounds 3] [--profile]

What `run_raw_workflow(["noop", "--n=1"])` does in its worker thread
(`_call_from_args`, `_normalise`, `_run_in_process` on the project's noop workflow of
process_throughput.py), in a loop after 50 unmeasured calls: this process's CPU per
call, one figure per round. `--profile` prints cProfile's view of one round instead.
The whole process_throughput.py figure adds the Temporal hand-off and the thread hop;
this isolates the run and its record.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import threading
import time
from pathlib import Path

from process_throughput import make_project

from raw.orchestrator.activity import (
    RawWorkflowCall,
    _call_from_args,
    _normalise,
    _Projects,
    _run_in_process,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = str(make_project(Path(tmp)))
        projects = _Projects()

        def call() -> None:
            parsed, _ = _call_from_args((["noop", "--n=1"],))
            normalised = _normalise(parsed)
            assert isinstance(normalised, RawWorkflowCall), normalised
            result = _run_in_process(
                normalised,
                project_dir=root,
                idempotency_key="process:run:1",
                cancel_event=threading.Event(),
                projects=projects,
            )
            assert result.status == "succeeded", result.error

        for _ in range(50):
            call()
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.runs):
                call()
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            return
        for _ in range(args.rounds):
            started = time.process_time()
            for _ in range(args.runs):
                call()
            print(f"{(time.process_time() - started) / args.runs * 1000:.3f} ms CPU per call")


if __name__ == "__main__":
    main()
