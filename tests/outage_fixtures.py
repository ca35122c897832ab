"""A project whose RAW workflow sends email through an SMTP server that is not there yet.

Shared by the dispatcher's and the processes' outage tests: the server's port is
picked free and left empty, and the test starts a mail catcher on it when the
outage should end.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from raw.ports import free_port

NOTIFY = """
    from pathlib import Path

    from pydantic import BaseModel

    from raw import BaseWorkflow, step
    from raw.integrations import EmailMessage, for_project

    class Params(BaseModel):
        to: str
        log: str

    class Notify(BaseWorkflow[Params]):
        @step("send")
        def send(self) -> str:
            with Path(self.params.log).open("a", encoding="utf-8") as f:  # a line per run
                f.write(f"{self.idempotency_key}\\n")
            message = EmailMessage(to=self.params.to, subject="Welcome", text="Hello.")
            return for_project().email.send_sync(message).message_id
"""
"""The workflow ``notify``: one email to ``to``, and a line with its key in ``log``."""


def smtp_down(root: Path) -> int:
    """Configure the project at ``root`` to send through an SMTP port nothing listens on."""
    port = free_port()
    (root / ".raw" / "config.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        system:
          integrations:
            email: {{adapter: smtp, host: 127.0.0.1, port: {port}, security: none,
                     from_address: hr@example.com, timeout_seconds: 5}}
        """),
        encoding="utf-8",
    )
    return port
