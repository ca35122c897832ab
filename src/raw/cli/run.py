"""``raw run <id> [--param value ...]``: run a workflow from the terminal.

The command's own options (``--json``, ``--dry``, ``--params``, ``--timeout``,
``--no-cache``) may appear anywhere; every other ``--flag`` belongs to the
workflow's Params. ``--help`` after an id lists that workflow's flags.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from typing import Any, TextIO

from raw.cli import output
from raw.errors import RawError, UsageError
from raw.workflow.arguments import (
    Flag,
    RunArgs,
    flag_name,
    flags_for,
    parse_flags,
    parse_timeout,
    read_params,
    split_args,
)
from raw.workflow.result import RunResult, RunStatus
from raw.workflow.runner import RunOptions, WorkflowTarget, error_result, execute, resolve


def _setup_logging(workflow_id: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(output.style(f"[{workflow_id}]", "2") + " %(message)s"))
    root = logging.getLogger("raw")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def print_workflow_help(
    workflow_id: str, flags: list[Flag], description: str, *, file: TextIO | None = None
) -> None:
    lines = [
        f"usage: raw run {workflow_id} [flags] [--json] [--dry] [--params JSON|@FILE|-] "
        "[--timeout SECONDS] [--no-cache]",
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
    print("\n".join(lines), file=file or sys.stdout)


class _Printer:
    """Prints the final result once, even if the hard-timeout timer races the run."""

    def __init__(self, as_json: bool, model: Any = None, *, stdout: TextIO | None = None) -> None:
        self.as_json = as_json
        self.model = model
        self.stdout = stdout or sys.stdout
        self._lock = threading.Lock()
        self._done = False

    def __call__(self, result: RunResult) -> int:
        with self._lock:
            if not self._done:
                self._done = True
                if self.as_json:
                    output.emit_json(result.to_json_dict(), stream=self.stdout)
                else:
                    _print_human(result, self.model, self.stdout)
                sys.stderr.flush()
        return result.exit_code


def _print_human(result: RunResult, model: Any, stdout: TextIO) -> None:
    err = output.err
    if result.status == "invalid_input" and result.error is not None:
        if result.error.fields:
            err(
                output.style("Error: ", "1;31") + f"invalid parameters for workflow "
                f"'{result.workflow}':"
            )
            for item in result.error.fields:
                field = flag_name(model, item["field"]) if model is not None else item["field"]
                message = item["message"]
                if message == "Field required":
                    message = "required"
                err(f"  {field}: {message}")
            err(f"Run 'raw run {result.workflow} --help' to see its flags.")
        else:
            err(output.style("Error: ", "1;31") + result.error.message)
        return
    if result.status == "not_found" and result.error is not None:
        err(output.style("Error: ", "1;31") + result.error.message)
        return
    mark = output.style("✓", "32") if result.ok else output.style("✗", "31")
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
        err(output.style("Error: ", "1;31") + result.error.message)
        if result.log_path:
            err(f"  log: {result.log_path}")
    elif result.run_dir:
        err(output.style(f"  record: {result.run_dir}", "2"))
    if result.ok and result.output is not None:
        value = result.output
        stdout.write((value if isinstance(value, str) else json.dumps(value, indent=2)) + "\n")
        stdout.flush()


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_target(target: WorkflowTarget, args: RunArgs, *, entry_point: str) -> int:
    """Parse the workflow's flags against its Params and run it; returns the exit code."""
    try:
        timeout = parse_timeout(args.timeout)
        base = read_params(args.params) if args.params is not None else {}
    except UsageError as exc:
        # A bad --timeout or --params is the command line's fault: report it alone, not
        # with "required" errors for params that were never parsed.
        result = error_result(target.workflow_id, "invalid_input", exc, dry=args.dry)
        return _Printer(args.as_json)(result)
    if target.project is not None:  # `python run.py` finds its project without resolve()
        try:
            target.project.config  # noqa: B018 - a bad config.yaml is reported, not raised
        except RawError as exc:
            return _Printer(args.as_json)(
                error_result(target.workflow_id, "invalid_input", exc, dry=args.dry)
            )
    with output.stdout_to_stderr(args.as_json) as stdout:
        return _run_loaded(target, args, base, timeout, entry_point, stdout)


def _run_loaded(
    target: WorkflowTarget,
    args: RunArgs,
    base: dict[str, Any],
    timeout: float | None,
    entry_point: str,
    stdout: TextIO,
) -> int:
    options = RunOptions(
        dry=args.dry,
        timeout_seconds=timeout,
        use_cache=not args.no_cache,
        entry_point=entry_point,
        propagate_interrupt=False,  # Ctrl-C/SIGTERM: record "cancelled", print it, exit 130
        # Set by the Temporal activity in subprocess mode: the same key on every retry.
        idempotency_key=os.environ.get("RAW_IDEMPOTENCY_KEY") or None,
    )
    try:
        loaded = target.load()
    except RawError:
        return _Printer(args.as_json, stdout=stdout)(execute(target, None, options=options))
    model = loaded.cls.params_model
    if args.help:
        print_workflow_help(
            target.workflow_id, flags_for(model), loaded.cls.description(), file=stdout
        )
        return output.OK
    values, errors = parse_flags(target.workflow_id, model, args.flags)
    params: dict[str, Any] | None = {**base, **values}
    if args.dry and args.params is None and not args.flags:
        params = None  # the dry run takes mocks/params.json
    printer = _Printer(args.as_json, model, stdout=stdout)

    def hard_timeout(result: RunResult) -> None:
        if result.status == "timed_out":
            code = printer(result)
            stdout.flush()
            os._exit(code)

    options.on_hard_timeout = hard_timeout
    _setup_logging(target.workflow_id)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = execute(target, params, options=options, param_errors=errors or None)
    except KeyboardInterrupt:
        return output.INTERRUPTED
    return printer(result)


def cmd_run(tokens: list[str], *, project_dir: str | None) -> int:
    as_json = "--json" in tokens
    try:
        args = split_args(tokens)
    except UsageError as exc:
        output.fail(exc, as_json=as_json)
    if args.workflow_id is None:
        output.fail(
            UsageError("Name the workflow to run: raw run <id> [--flag value ...]."),
            as_json=args.as_json,
        )
    try:
        target = resolve(args.workflow_id, args.project_dir or project_dir)
    except RawError as exc:
        from raw.errors import ConfigError, InvalidWorkflowIdError, WorkflowOutsideProjectError

        refused = InvalidWorkflowIdError | ConfigError | WorkflowOutsideProjectError
        status: RunStatus = "invalid_input" if isinstance(exc, refused) else "not_found"
        return _Printer(args.as_json)(error_result(args.workflow_id, status, exc, dry=args.dry))
    return run_target(target, args, entry_point="cli")
