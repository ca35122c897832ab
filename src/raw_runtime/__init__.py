"""Compatibility with the original RAW runtime: its workflows run here unchanged.

``from raw_runtime import BaseWorkflow, step, retry`` and the modules the original's
templates, docs, skills and examples import (``raw_runtime.context``,
``.decorators``, ``.approval``, ``.secrets``, ``.tools``, ``.env``,
``.telemetry``, ``.agentic``, ``.triggers``, ``.base``) are here, each name built
on the kit's own objects: ``raw_runtime.BaseWorkflow is raw.BaseWorkflow``.

The original exported about 150 names; the ones no workflow file of it uses are
not pretended. Importing one raises ``ImportError`` with what to use instead
(``raw_runtime._refused``), as does any name or module this package does not have.
docs/migrating.md lists every name, and where ours differs from the original on
purpose.
"""

from __future__ import annotations

from raw import BaseWorkflow, RunResult, cache, cache_step, conditional, retry, run_workflow, step
from raw.version import __version__
from raw_runtime._refused import install_finder, refuse
from raw_runtime.agentic import (
    AgenticStepError,
    CostLimitExceededError,
    ResponseParsingError,
    agentic,
)
from raw_runtime.approval import wait_for_approval, wait_for_webhook
from raw_runtime.context import WorkflowContext, get_workflow_context, set_workflow_context
from raw_runtime.decorators import raw_step
from raw_runtime.env import ensure_env_loaded, load_dotenv
from raw_runtime.secrets import get_secret, require_secret
from raw_runtime.telemetry import EventSeverity, log_event, log_metric
from raw_runtime.tools import (
    Tool,
    ToolEvent,
    ToolEventType,
    ToolRegistry,
    ToolResult,
    get_tool,
    get_tool_registry,
    register_tool,
    set_tool_registry,
    tool,
)
from raw_runtime.triggers import (
    TriggerEvent,
    clear_trigger_registry,
    get_workflows_for_event,
    list_trigger_types,
    on_event,
)

__all__ = [
    "AgenticStepError",
    "BaseWorkflow",
    "CostLimitExceededError",
    "EventSeverity",
    "ResponseParsingError",
    "RunResult",
    "Tool",
    "ToolEvent",
    "ToolEventType",
    "ToolRegistry",
    "ToolResult",
    "TriggerEvent",
    "WorkflowContext",
    "__version__",
    "agentic",
    "cache",
    "cache_step",
    "clear_trigger_registry",
    "conditional",
    "ensure_env_loaded",
    "get_secret",
    "get_tool",
    "get_tool_registry",
    "get_workflow_context",
    "get_workflows_for_event",
    "list_trigger_types",
    "load_dotenv",
    "log_event",
    "log_metric",
    "on_event",
    "raw_step",
    "register_tool",
    "require_secret",
    "retry",
    "run_workflow",
    "set_tool_registry",
    "set_workflow_context",
    "step",
    "tool",
    "wait_for_approval",
    "wait_for_webhook",
]

install_finder("raw_runtime")
__getattr__ = refuse(__name__)
