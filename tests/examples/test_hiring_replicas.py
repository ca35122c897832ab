"""The hiring system as replicas loses nothing and repeats nothing when one of each part dies.

``benchmarks/hiring_replicas.py`` (which a person runs with larger numbers) on one
PostgreSQL and one Temporal dev server: 2 API processes behind a round-robin front,
2 dispatchers, 2 workers, each started with its role's rendered command. While 60
applications flow (CV, booking, the phone simulator's call callbacks), one API
process, one dispatcher (caught holding leases) and one worker (caught running RAW
workflows) are SIGKILLed and replaced.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killing_one_of_each_replica_loses_nothing_and_repeats_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import hiring_replicas

    options = hiring_replicas.Options(
        applications=60, rate_per_second=5, workdir=tmp_path, quiet=True, timeout_seconds=240
    )
    figures = asyncio.run(hiring_replicas.run(options))
    sys.stdout.write(figures.report() + "\n")  # shown with -s, and in the report on failure

    report = figures.report()
    assert figures.problems() == [], report
    assert figures.accepted["cv-submission"] == figures.accepted["calendar-booking"] == 60
    assert figures.stored == sum(figures.accepted.values()), report  # every 2xx is stored
    assert figures.processes == {"COMPLETED": 60}, report
    assert set(figures.lost.values()) == {0}, report
    assert set(figures.duplicates.values()) == set(figures.duplicate_keys.values()) == {0}
    assert figures.effects["scheduling emails"] == figures.effects["calls"] == 60, report
    assert figures.effects["summaries"] == 60, report
    assert figures.leases_orphaned >= 1, report  # the dispatcher died holding work
    assert figures.taken_over_by_others == figures.leases_orphaned, report
    assert figures.runs_on_killed_worker >= 1, report  # the worker died mid-run ...
    assert figures.runs_resumed == figures.runs_on_killed_worker, report  # ... and it resumed
    # The replacements and the survivors stop cleanly on SIGTERM.
    assert set(figures.stop_codes.values()) == {0}, report
