"""Errors raised by the RAW kit.

Every error the kit raises on purpose derives from :class:`RawError`, stores the
values that identify it and builds its own message, a full sentence that says
what was wrong and how to fix it. The CLI maps each class to an exit code at the
edge (``raw.console``); nothing inside the kit exits the process. Every error
survives ``pickle`` with its message and its fields, so one raised in a worker or a
subprocess reaches its caller intact.

    RawError
    ├── ProjectError                 no .raw/ project
    │   └── ConfigError              .raw/config.yaml is not valid
    ├── InvalidWorkflowIdError       an id that is not a lowercase slug
    ├── WorkflowNotFoundError        no .raw/workflows/<id>/run.py
    ├── AmbiguousWorkflowError       a name that fits several of the original's folders
    ├── WorkflowOutsideProjectError  a workflow folder (a link) resolves outside the project
    ├── WorkflowLoadError            run.py does not import or defines no workflow
    ├── ScriptFailedError            a plain-script run.py (no BaseWorkflow) exited non-zero
    ├── DependencyInstallError       a PEP 723 dependency could not be installed
    ├── InvalidParamsError           params that do not validate (per-field errors)
    ├── UsageError                   a bad command line
    ├── RunTimedOutError             a run passed its deadline
    ├── RunCancelledError            a run was cancelled by its caller
    ├── DryRunNetworkError           a dry run tried to reach a non-loopback host
    ├── ServiceUnreachableError      a service the command needs (the coordinator,
    │                                Temporal, the local SMTP catcher, a database)
    │                                is not running or does not answer
    └── LLMError                     the LLM client failed
        ├── LLMNotConfiguredError    no provider settings
        ├── LLMProviderError         the provider answered an error
        └── LLMOutputError           the answer did not match the requested model
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class RawError(Exception):
    """Root of every error the RAW kit raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # An error raised in a worker or a subprocess is pickled to its caller. The
        # default calls the class again with the finished message, which a subclass's
        # __init__ takes for one of its values (or refuses): restore the message and
        # the fields as they are instead.
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[RawError], args: tuple[Any, ...]) -> RawError:
    return cls.__new__(cls, *args)  # sets args, and so the message; no __init__


class ProjectError(RawError):
    """The project folder or its configuration is missing or invalid."""


class ConfigError(ProjectError):
    """The project's configuration file is not valid."""


class InvalidWorkflowIdError(RawError):
    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"'{workflow_id}' is not a valid workflow id: use lowercase letters, digits "
            "and dashes, starting with a letter or digit (for example 'analyze-cv')."
        )


class WorkflowNotFoundError(RawError):
    def __init__(
        self, workflow_id: str, *, candidates: Sequence[str] = (), where: str = ""
    ) -> None:
        self.workflow_id = workflow_id
        self.candidates = list(candidates)
        message = f"No workflow '{workflow_id}'"
        message += f" in {where}." if where else "."
        if self.candidates:
            message += " Did you mean " + ", ".join(f"'{c}'" for c in self.candidates) + "?"
        else:
            message += " Run 'raw list' to see the workflows, or 'raw create' to make one."
        super().__init__(message)


class AmbiguousWorkflowError(RawError):
    def __init__(self, workflow_id: str, candidates: Sequence[str]) -> None:
        self.workflow_id = workflow_id
        self.candidates = list(candidates)
        super().__init__(
            f"'{workflow_id}' fits {len(self.candidates)} workflows: "
            + ", ".join(self.candidates)
            + ". Name one of them in full, or by a longer prefix."
        )


class WorkflowOutsideProjectError(RawError):
    def __init__(self, workflow_id: str, folder: str, resolved: str, root: str) -> None:
        self.workflow_id = workflow_id
        self.folder = folder
        self.resolved = resolved
        self.root = root
        super().__init__(
            f"Workflow '{workflow_id}' at {folder} resolves to {resolved}, outside the project "
            f"{root}: RAW runs only code that is part of the project, and a deployment copies "
            f"only the project (the link would break there). Copy the workflow into {folder} "
            "instead of linking to it."
        )


class WorkflowLoadError(RawError):
    def __init__(self, workflow_id: str, reason: str) -> None:
        self.workflow_id = workflow_id
        self.reason = reason
        super().__init__(f"Workflow '{workflow_id}' could not be loaded: {reason}")


class ScriptFailedError(RawError):
    def __init__(self, workflow_id: str, script: str, exit_code: int, detail: str = "") -> None:
        self.workflow_id = workflow_id
        self.script = script
        self.exit_code = exit_code
        self.detail = detail
        message = f"Workflow '{workflow_id}': {script} exited with code {exit_code}"
        message += f": {detail}" if detail else "."
        super().__init__(message)


class DependencyInstallError(RawError):
    def __init__(
        self, workflow_id: str, packages: Sequence[str], installer: str, detail: str
    ) -> None:
        self.workflow_id = workflow_id
        self.packages = list(packages)
        self.installer = installer
        self.detail = detail
        super().__init__(
            f"Workflow '{workflow_id}': {installer} could not install "
            + ", ".join(f"'{p}'" for p in self.packages)
            + f" from its PEP 723 header: {detail} Fix the header, make the package "
            "available to the installer, or run with --no-deps to use this environment."
        )


@dataclass(frozen=True)
class FieldError:
    """One parameter that did not validate; ``field`` is a dotted path."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidParamsError(RawError):
    def __init__(self, workflow_id: str, errors: Sequence[FieldError]) -> None:
        self.workflow_id = workflow_id
        self.errors = list(errors)
        lines = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(f"Invalid parameters for workflow '{workflow_id}': {lines}")


class UsageError(RawError):
    """A command line that cannot be understood."""


class RunTimedOutError(RawError):
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"The run did not finish within its timeout of {timeout_seconds:g} seconds."
        )


class RunCancelledError(RawError):
    def __init__(self) -> None:
        super().__init__("The run was cancelled by its caller.")


class DryRunNetworkError(RawError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"A dry run tried to open a network connection to '{host}'. Dry runs may only "
            "reach loopback addresses: add a mock to the workflow's mocks/ folder instead."
        )


class ServiceUnreachableError(RawError):
    """A service the command talks to did not answer: it is not running, or not there.

    The CLI gives it its own exit code (4), so a script can tell "start the system
    first" from "the workflow failed". Subclasses name the service and say how to
    start it or where to point the command instead.
    """


class LLMError(RawError):
    """The workflow's LLM client failed."""


class LLMNotConfiguredError(LLMError):
    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            "No LLM provider is configured: set "
            + ", ".join(self.missing)
            + " (any OpenAI-compatible chat-completions endpoint), or the original runtime's "
            "OPENAI_API_KEY or ANTHROPIC_API_KEY (in the environment or the project's .env). "
            "To answer from the "
            "workflow's recorded responses (mocks/llm.json) instead, run it with --dry, or, "
            "where there is no --dry (process tests, a worker), set RAW_LLM_MODE=recorded "
            "(or RAW_LLM_MODE=auto: the provider when one is configured, else the recordings)."
        )


class LLMProviderError(LLMError):
    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class LLMOutputError(LLMError):
    def __init__(self, model_name: str, reason: str) -> None:
        self.model_name = model_name
        self.reason = reason
        super().__init__(
            f"The LLM's answer did not match {model_name} even after a corrective retry: {reason}"
        )
