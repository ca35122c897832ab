"""The RAW workflow the crash tests kill around: an idempotent effect keyed on its key.

Each attempt appends ``<pid> <key>`` to ``attempts``; the first attempt holds at
``stage`` (before, during or after the effect) after writing ``stage`` to ``gate``,
so a test knows where it is and kills the worker or dispatcher running it. The
effect appends the key to ``log`` only if it is not there yet: delivered at least
once, it happens exactly once.
"""

EFFECT = """
    import os
    import time
    from pathlib import Path

    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        log: str
        attempts: str
        gate: str
        stage: str

    class Effect(BaseWorkflow[Params]):
        @step("effect")
        def effect(self) -> dict:
            key = self.idempotency_key
            attempts = Path(self.params.attempts)
            with attempts.open("a", encoding="utf-8") as f:
                f.write(f"{os.getpid()} {key}\\n")
            first = len(attempts.read_text(encoding="utf-8").splitlines()) == 1

            def hold(stage: str) -> None:
                if first and self.params.stage == stage:
                    Path(self.params.gate).write_text(stage, encoding="utf-8")
                    time.sleep(600)  # the test kills the process here

            hold("before")
            log = Path(self.params.log)
            done = log.exists() and key in log.read_text(encoding="utf-8").split()
            hold("during")  # checked, not yet written
            if not done:
                with log.open("a", encoding="utf-8") as f:
                    f.write(f"{key}\\n")
            hold("after")  # written, not yet reported done
            return {"key": key}
"""
