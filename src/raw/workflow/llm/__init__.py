"""The workflow's LLM client: ``self.llm`` inside a RAW workflow.

One small interface, :class:`LLM`: ``complete`` returns text and ``extract`` returns
a validated Pydantic model, each with an async twin. :class:`OpenAICompatibleLLM`
speaks to any OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint
(OpenAI, Ollama, vLLM, LM Studio ...) and is configured by environment variables::

    RAW_LLM_BASE_URL=https://api.openai.com/v1   # or http://localhost:11434/v1
    RAW_LLM_MODEL=gpt-4o-mini
    RAW_LLM_API_KEY=sk-...                       # optional: local servers need none
    RAW_LLM_TIMEOUT_SECONDS=60
    RAW_LLM_MAX_RETRIES=2
    RAW_LLM_STRUCTURED_OUTPUT=json_schema        # or json_object, or prompt

A client with no provider configured is fine to build; its first call raises
:class:`~raw.errors.LLMNotConfiguredError` naming the missing settings, so a
workflow that never calls the LLM never fails for lack of one.

The client is split into files of one idea: the interface (``interface``), the
settings (``config``), the request bodies and structured output (``structured``), the
retry policy (``attempts``), the run log (``call_log``), the client itself
(``openai_compatible``) and where a run's answers come from (``mode``).

``raw run`` must start fast, so this package imports neither httpx nor
pydantic-settings: both load on the first call that needs them.
"""

from __future__ import annotations

from raw.workflow.llm.attempts import MAX_RETRY_AFTER_SECONDS as MAX_RETRY_AFTER_SECONDS
from raw.workflow.llm.call_log import logger as logger
from raw.workflow.llm.call_log import usage as usage
from raw.workflow.llm.config import load_settings
from raw.workflow.llm.interface import LLM
from raw.workflow.llm.interface import M as M
from raw.workflow.llm.mode import LLM_MODE_SETTING as LLM_MODE_SETTING
from raw.workflow.llm.mode import LLMMode as LLMMode
from raw.workflow.llm.mode import llm_source as llm_source
from raw.workflow.llm.mode import provider_configured as provider_configured
from raw.workflow.llm.openai_compatible import OpenAICompatibleLLM, default_llm
from raw.workflow.llm.structured import validation_problems as validation_problems

__all__ = [
    "LLM",
    "OpenAICompatibleLLM",
    "default_llm",
    "load_settings",
]
