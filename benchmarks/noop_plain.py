"""The honest baseline for `raw run noop --json`: the same workflow as a plain script.

    python benchmarks/noop_plain.py [--n INT] --json

What a user writes instead of a RAW workflow, built on nothing of ours: the same
one-model ``Params``, the same flags parsed with argparse, validated with Pydantic,
the same three steps run and timed, and the same JSON document printed (schema,
run id, status, output, the steps with their times). It keeps no record: `raw run`
also writes the run's folder, its manifest (at start and at the end) and its log,
which is part of what the comparison charges to us.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError


class Params(BaseModel):
    n: int = 1


def one(params: Params) -> None:
    pass


def two(params: Params) -> None:
    pass


def three(params: Params) -> int:
    return params.n


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main() -> int:
    parser = argparse.ArgumentParser(prog="noop")
    parser.add_argument("--n", metavar="INT", default=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = vars(parser.parse_args())
    as_json = args.pop("json")
    try:
        params = Params.model_validate(args)
    except ValidationError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    steps: list[dict[str, Any]] = []
    output: Any = None
    for step in (one, two, three):
        s0, begun = time.perf_counter(), datetime.now(UTC)
        output = step(params)
        steps.append(
            {
                "name": step.__name__,
                "status": "succeeded",
                "started_at": stamp(begun),
                "ended_at": stamp(datetime.now(UTC)),
                "duration_ms": round((time.perf_counter() - s0) * 1000, 3),
                "attempts": [],
                "cached": False,
                "cost_usd": None,
                "result": output,
                "error": None,
                "skip_reason": None,
            }
        )
    document = {
        "schema": "raw.run/1",
        "workflow": "noop",
        "run_id": f"{started:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:6]}",
        "status": "succeeded",
        "output": output,
        "error": None,
        "return_code": None,
        "dry": False,
        "llm": None,
        "steps": steps,
        "timings": {
            "started_at": stamp(started),
            "ended_at": stamp(datetime.now(UTC)),
            "duration_ms": round((time.perf_counter() - t0) * 1000, 3),
        },
        "artifacts": [],
    }
    print(json.dumps(document, indent=2) if as_json else output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
