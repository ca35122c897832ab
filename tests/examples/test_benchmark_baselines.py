"""The honest baselines of benchmarks/ do what they claim, so their ratios mean something.

``noop_plain.py`` prints the document `raw run noop --json` prints (same keys, same
output); ``ingest_handwritten.py`` refuses a bad signature, stores a signed delivery
as an order row and an outbox row, stores a repeat once, and its poller marks the
outbox row done. No timing is asserted.
"""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RAW = str(Path(sys.executable).with_name("raw"))


def test_plain_script_prints_the_document_raw_run_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import workflow_overhead

    root = workflow_overhead.make_project(tmp_path)
    ours = json.loads(
        subprocess.run(
            [RAW, "run", "noop", "--json", "--n", "3"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    plain = json.loads(
        subprocess.run(
            [sys.executable, str(BENCHMARKS / "noop_plain.py"), "--json", "--n", "3"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    # The run's folder and log are what raw run records and the plain script does not.
    assert set(ours) - set(plain) == {"run_dir", "log_path"}
    assert set(plain) <= set(ours)
    assert plain["output"] == ours["output"] == 3
    assert [s["name"] for s in plain["steps"]] == [s["name"] for s in ours["steps"]]
    assert set(plain["steps"][0]) == set(ours["steps"][0])
    refused = subprocess.run(
        [sys.executable, str(BENCHMARKS / "noop_plain.py"), "--json", "--n", "x"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "valid integer" in refused.stderr


def test_hand_written_route_stores_order_and_outbox_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, func, select
    from standardwebhooks import Webhook

    secret = "whsec_" + base64.b64encode(b"test-secret-of-the-baseline").decode()
    monkeypatch.setenv("BENCH_DATABASE_URL", f"sqlite:///{tmp_path / 'hw.db'}")
    monkeypatch.setenv("BENCH_SECRET", secret)
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("ingest_handwritten", None)
    hw = importlib.import_module("ingest_handwritten")
    body = json.dumps({"order_id": "o-1", "customer": "ada", "amount_cents": 5, "items": []})
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, body),
    }
    with TestClient(hw.app) as client:
        bad = client.post(
            "/webhooks/order", content=body, headers={**headers, "webhook-signature": "v1,AAAA"}
        )
        assert bad.status_code == 401
        assert client.post("/webhooks/order", content=body, headers=headers).status_code == 202
        assert client.post("/webhooks/order", content=body, headers=headers).status_code == 202
        engine = create_engine(f"sqlite:///{tmp_path / 'hw.db'}")
        deadline = time.monotonic() + 10
        with engine.connect() as conn:
            while (
                conn.execute(select(hw.outbox.c.status)).scalars().all() != ["done"]
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
                conn.rollback()
            assert conn.execute(select(func.count()).select_from(hw.orders)).scalar_one() == 1
            assert conn.execute(select(hw.outbox.c.status)).scalars().all() == ["done"]
        engine.dispose()
    sys.modules.pop("ingest_handwritten", None)
