"""A 2xx is a promise: a real `raw serve` killed after answering loses nothing.

The server answers 202 to a signed webhook and is killed with SIGKILL before any
dispatcher acts (its built-in dispatcher is off); a new server, with its
dispatcher on, performs the action: the RAW workflow's effect exists exactly once.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from raw.ports import free_port

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")
SECRET = "whsec_" + base64.b64encode(b"server-crash-test-secret-012345").decode()

EFFECT = """
    from pathlib import Path

    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        order_id: str
        log: str

    class Ship(BaseWorkflow[Params]):
        @step("ship")
        def ship(self) -> dict:
            log = Path(self.params.log)
            key = self.idempotency_key
            if not (log.exists() and key in log.read_text(encoding="utf-8").split()):
                with log.open("a", encoding="utf-8") as f:
                    f.write(f"{key}\\n")
            return {"shipped": self.params.order_id}
"""

CONFIG = """\
version: 1
system:
  coordinator:
    database_url: sqlite:///{db}
    dispatcher: {{poll_interval_seconds: 0.05}}
    webhooks:
      - name: order
        path: /webhooks/order
        scheme: standard-webhooks
        secrets: [CRASH_ORDER_SECRET]
        delivery_key: order_id
        action: {{kind: run_workflow, workflow: ship}}
"""


def serve(root: Path, port: int, *, dispatcher: bool, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "DATABASE_URL"))}
    env.update(
        CRASH_ORDER_SECRET=SECRET,
        RAW_API_TOKEN="server-crash-api-token-0123456789",
        RAW_DISPATCHER="on" if dispatcher else "off",
    )
    with (root / f"{name}.log").open("wb") as sink:
        proc = subprocess.Popen(
            [str(RAW_BIN), "serve", "--port", str(port), "--log-level", "warning"],
            cwd=root,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, (root / f"{name}.log").read_text()
        assert time.monotonic() < deadline, "the server never answered /health"
        time.sleep(0.05)


def test_server_killed_after_a_2xx_loses_nothing_and_acts_once(project: Project) -> None:
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    project.add_workflow("ship", EFFECT)
    db = project.root / "coordinator.db"
    (project.root / ".raw" / "config.yaml").write_text(CONFIG.format(db=db), encoding="utf-8")
    log = project.root / "shipments.log"
    body = json.dumps({"order_id": f"o-{uuid.uuid4().hex[:6]}", "log": str(log)})
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(msg_id, now, body),
    }
    port = free_port()
    first = serve(project.root, port, dispatcher=False, name="first")
    second = None
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/order", content=body, headers=headers, timeout=10
        )
        assert answer.status_code == 202, answer.text
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert not log.exists()  # nothing acted before the crash

        second = serve(project.root, port, dispatcher=True, name="second")
        deadline = time.monotonic() + 30
        while not log.exists():
            assert time.monotonic() < deadline, (project.root / "second.log").read_text()
            time.sleep(0.05)
        time.sleep(0.5)  # room for a duplicate, if there were one
        again = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/order", content=body, headers=headers, timeout=10
        )
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)

    assert len(log.read_text(encoding="utf-8").splitlines()) == 1  # the effect exactly once
    assert (again.status_code, again.json()) == (202, answer.json())  # the first answer again
