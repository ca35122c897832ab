"""A run in a terminal: the edge code that ``raw run`` and ``python run.py`` share.

Each parses its command line, then :func:`run_and_print` makes the one runtime call
(:func:`raw.workflow.command.run_command`) and prints the :class:`RunResult` it
returns: a human summary on stderr and the output on stdout, or with ``--json`` the
result document alone on stdout. The runtime never calls back into this module.
"""

from __future__ import annotations

# The C module under :mod:`signal`, which adds three IntEnums built at import (~2.7 M
# instructions a ``raw run``, benchmarks/README.md); the run installs one handler.
import _signal  # type: ignore[import-not-found]  # no stub: signal's own implementation
import json
import os
import sys
import threading
from typing import Any, TextIO

from pydantic import BaseModel

from raw import console, tracing
from raw._loggers import logging_module, on_first_use
from raw.errors import RawError
from raw.workflow.arguments import Flag, RunArgs, flag_name, flags_for, split_args
from raw.workflow.command import run_command, target_for_class
from raw.workflow.definition import WorkflowDefinition
from raw.workflow.result import RunResult
from raw.workflow.runner import WorkflowTarget

__all__ = ["RunPrinter", "main", "print_workflow_help", "run_and_print"]


def _setup_logging(workflow_id: str) -> None:
    """The run's lines on stderr, ``[workflow] message``; set up when the kit first logs."""
    stream, prefix = sys.stderr, console.style(f"[{workflow_id}]", "2")

    def setup() -> None:
        logging = logging_module()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(prefix + " %(message)s"))
        root = logging.getLogger("raw")
        root.addHandler(handler)
        root.setLevel(logging.INFO)

    on_first_use(setup)


def print_workflow_help(
    workflow_id: str, flags: list[Flag], description: str, *, file: TextIO | None = None
) -> None:
    lines = [
        f"usage: raw run {workflow_id} [flags] [--json] [--dry] [--params JSON|@FILE|-] "
        "[--timeout SECONDS] [--no-cache] [--no-deps]",
        "",
    ]
    if description:
        lines += [description, ""]
    lines.append("workflow flags:" if flags else "this workflow takes no flags.")
    for f in flags:
        detail = f.type_label
        if f.choices:
            detail = "one of: " + ", ".join(f.choices)
        req = "required" if f.required else f"default: {json.dumps(f.default)}"
        text = f"  {f.usage:<34} {f.help}".rstrip()
        lines.append(text)
        lines.append(f"  {'':<34} ({detail}; {req})")
    out = file or sys.stdout
    out.write("\n".join(lines) + "\n")


class RunPrinter:
    """Prints the final result once, even if the hard-timeout timer races the run."""

    def __init__(self, as_json: bool, *, stdout: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stdout = stdout or sys.stdout
        self._lock = threading.Lock()
        self._done = False

    def __call__(self, result: RunResult, model: type[BaseModel] | None = None) -> int:
        with self._lock:
            if not self._done:
                self._done = True
                if self.as_json:
                    console.emit_json(result.to_json_dict(), stream=self.stdout)
                else:
                    _print_human(result, model, self.stdout)
                sys.stderr.flush()
        return result.exit_code


def _print_human(result: RunResult, model: type[BaseModel] | None, stdout: TextIO) -> None:
    err, style = console.err, console.style
    if result.status == "invalid_input" and result.error is not None:
        if result.error.fields:
            err(style("Error: ", "1;31") + f"invalid parameters for workflow '{result.workflow}':")
            for item in result.error.fields:
                field = flag_name(model, item["field"]) if model is not None else item["field"]
                message = item["message"]
                if message == "Field required":
                    message = "required"
                err(f"  {field}: {message}")
            err(f"Run 'raw run {result.workflow} --help' to see its flags.")
        else:
            err(style("Error: ", "1;31") + result.error.message)
        return
    if result.status == "not_found" and result.error is not None:
        err(style("Error: ", "1;31") + result.error.message)
        return
    mark = style("✓", "32") if result.ok else style("✗", "31")
    took = result.timings.duration_ms or 0.0
    dry = " (dry run)" if result.dry else ""
    err(f"{mark} {result.workflow}{dry}: {result.status} in {took:.1f} ms  run {result.run_id}")
    for s in result.steps:
        sm = {"succeeded": "✓", "failed": "✗", "skipped": "-", "running": "…"}[s.status]
        note = " (cached)" if s.cached else ""
        if len(s.attempts) > 1:
            note += f" ({len(s.attempts)} attempts)"
        err(f"  {sm} {s.name:<24} {s.duration_ms or 0.0:>9.1f} ms{note}")
    for a in result.artifacts:
        err(f"  artifact: {a.path}")
    if result.error is not None:
        err(style("Error: ", "1;31") + result.error.message)
        if result.log_path:
            err(f"  log: {result.log_path}")
    elif result.run_dir:
        err(style(f"  record: {result.run_dir}", "2"))
    if result.ok and result.output is not None:
        value = result.output
        stdout.write((value if isinstance(value, str) else json.dumps(value, indent=2)) + "\n")
        stdout.flush()


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_and_print(
    args: RunArgs,
    *,
    target: WorkflowTarget | None = None,
    project_dir: str | None = None,
    entry_point: str,
) -> int:
    """Run what ``args`` ask for (one runtime call), print the result; returns the exit code."""
    workflow_id = target.workflow_id if target is not None else str(args.workflow_id)
    with console.stdout_to_stderr(args.as_json) as stdout:
        printer = RunPrinter(args.as_json, stdout=stdout)

        def hard_timeout(result: RunResult) -> None:
            if result.status == "timed_out":
                code = printer(result)
                stdout.flush()
                tracing.shutdown()  # os._exit skips atexit: the run's span is exported first
                os._exit(code)

        _setup_logging(workflow_id)
        _signal.signal(_signal.SIGTERM, _on_sigterm)
        try:
            run = run_command(
                args,
                target=target,
                project_dir=project_dir,
                entry_point=entry_point,
                on_hard_timeout=hard_timeout,
            )
        except KeyboardInterrupt:
            return console.INTERRUPTED
        if run.result is None and run.help_text is not None:
            stdout.write(run.help_text)
            return console.OK
        if run.result is None:
            assert run.params_model is not None
            print_workflow_help(
                workflow_id, flags_for(run.params_model), run.description, file=stdout
            )
            return console.OK
        return printer(run.result, run.params_model)


def main(cls: type[WorkflowDefinition[Any]], argv: list[str]) -> int:
    """``python run.py --flags``: the original runtime's ``Workflow.main()``; the exit code."""
    try:
        args = split_args(argv, expect_id=False)
    except RawError as exc:
        console.fail(exc, as_json="--json" in argv)
    return run_and_print(args, target=target_for_class(cls), entry_point="python run.py")
