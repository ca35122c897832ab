"""Workflow files shaped as the original RAW runtime's own files, written for these tests.

Each reproduces what one of the original's files does with ``raw_runtime`` (the names
it imports, how it calls them, what it saves), from what the original documents: its
``raw create`` template, the quick-start example of its ``raw_runtime`` package, and
its four examples (edge_case_handler, hybrid_workflow, inbound_call_workflow,
sentiment_analysis). None is copied from its repository.

Shapes our runner does not take yet (a plain-script ``run.py``, the original's
``config.yaml``, date-prefixed folders) are the other half of issue 19; these files
live in ``.raw/workflows/<id>/run.py`` of a project of ours until then.
"""

from __future__ import annotations

# `raw create <name>`: PEP 723 header, the three submodule imports, an __init__ override
# with the original's exact signature, typed models between steps, run() -> int.
TEMPLATE = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = [
#   "pydantic>=2.0",
#   "rich>=13.0",
# ]
# ///
"""order-report workflow."""

from pydantic import BaseModel, Field

from raw_runtime import BaseWorkflow, step, retry
from raw_runtime.context import WorkflowContext
from raw_runtime.decorators import cache_step
from raw_runtime.approval import wait_for_approval, wait_for_webhook


class OrderReportParams(BaseModel):
    """Workflow parameters - defines CLI arguments."""
    region: str = Field(default="emea", description="Sales region")


class ParsedInput(BaseModel):
    region: str
    orders: list[int]


class ProcessedResult(BaseModel):
    region: str
    total: int
    parse_calls: int


class OrderReport(BaseWorkflow[OrderReportParams]):
    """Sum the orders of a region."""

    def __init__(self, params: OrderReportParams, context: WorkflowContext | None = None) -> None:
        super().__init__(params, context)
        self._parse_calls = 0

    @step("parse")
    @retry(retries=2, backoff="exponential", base_delay=0.01)
    def parse(self) -> ParsedInput:
        self._parse_calls += 1
        return ParsedInput(region=self.params.region, orders=[120, 80, 40])

    @step("process")
    @cache_step
    def process(self, parsed: ParsedInput) -> ProcessedResult:
        self.log(f"summing {len(parsed.orders)} orders")
        return ProcessedResult(
            region=parsed.region, total=sum(parsed.orders), parse_calls=self._parse_calls
        )

    def run(self) -> int:
        parsed = self.parse()
        result = self.process(parsed)
        self.save("result.json", result)
        return 0


if __name__ == "__main__":
    OrderReport.main()
'''

# The template's dry_run.py, which the original's `raw run --dry` ran instead of run.py.
TEMPLATE_DRY_RUN = '''\
#!/usr/bin/env python3
"""Dry run for order-report with mocked data."""


def main() -> None:
    print("Dry run: order-report")
    print("Step 1: mocked result")


if __name__ == "__main__":
    main()
'''

# The usage example of the original's raw_runtime package (its quick start).
HELLO = """\
from pydantic import BaseModel, Field
from raw_runtime import BaseWorkflow, step


class GreetParams(BaseModel):
    name: str = Field(..., description="Name to greet")


class HelloWorld(BaseWorkflow[GreetParams]):
    @step("greet")
    def greet(self) -> str:
        return f"Hello, {self.params.name}!"

    def run(self) -> int:
        message = self.greet()
        self.save("greeting.txt", message)
        return 0


if __name__ == "__main__":
    HelloWorld.main()
"""

# edge_case_handler: deterministic steps around one @agentic classification with a
# Literal answer and a cost limit; `raw_step as step`; the cost summed from
# self.context._steps at the end.
EDGE_CASE = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2.0", "anthropic>=0.40.0"]
# ///
from typing import Literal

from pydantic import BaseModel, Field

from raw_runtime import BaseWorkflow, agentic
from raw_runtime import raw_step as step


class Params(BaseModel):
    ticket_id: str = Field(..., description="Support ticket ID")


class TicketTriage(BaseWorkflow[Params]):
    @step("fetch_ticket")
    def fetch_ticket(self) -> dict:
        return {
            "id": self.params.ticket_id,
            "customer": "Enterprise Corp",
            "tier": "enterprise",
            "issue": "Checkout fails for every customer since the deploy",
        }

    @step("classify_urgency")
    @agentic(
        prompt="""Classify this ticket's urgency.
Customer: {context.customer} (tier {context.tier})
Issue: {context.issue}
Answer with one word: critical, high, medium or low.""",
        model="claude-3-5-haiku-20241022",
        max_tokens=10,
        cost_limit=0.01,
    )
    def classify_urgency(
        self, customer: str, tier: str, issue: str
    ) -> Literal["critical", "high", "medium", "low"]:
        pass

    @step("route")
    def route(self, urgency: str, ticket: dict) -> dict:
        queue = {"critical": "on-call", "high": "senior", "medium": "queue", "low": "queue"}
        return {"ticket_id": ticket["id"], "urgency": urgency, "assignee": queue[urgency]}

    def run(self) -> int:
        ticket = self.fetch_ticket()
        urgency = self.classify_urgency(
            customer=ticket["customer"], tier=ticket["tier"], issue=ticket["issue"]
        )
        routing = self.route(urgency, ticket)
        self.save("routing.json", routing)
        if self.context:
            total = sum(
                data.get("cost", 0) for data in self.context._steps.values() if "cost" in data
            )
            self.log(f"Total agentic cost: ${total:.6f}")
        return 0


if __name__ == "__main__":
    TicketTriage.main()
'''

# hybrid_workflow: an HTTP fetch with httpx, text extraction, three cached @agentic
# steps, then a cost breakdown read from self.context._steps ("cost", "cached").
HYBRID = """\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2.0", "anthropic>=0.40.0", "httpx>=0.27"]
# ///
import re

from pydantic import BaseModel, Field

from raw_runtime import BaseWorkflow, agentic
from raw_runtime import raw_step as step


class Params(BaseModel):
    article_url: str = Field(..., description="Article URL to analyze")


class ArticleAnalysis(BaseWorkflow[Params]):
    @step("fetch_article")
    def fetch_article(self) -> str:
        import httpx

        response = httpx.get(self.params.article_url, timeout=10.0)
        response.raise_for_status()
        return response.text

    @step("extract_text")
    def extract_text(self, html: str) -> str:
        text = re.sub(r"<[^>]+>", " ", html)
        return re.sub(r"\\s+", " ", text).strip()[:5000]

    @step("summarize")
    @agentic(prompt="Summarize in one sentence:\\n{context.text}",
             model="claude-3-5-haiku-20241022", max_tokens=100, cost_limit=0.05, cache=True)
    def summarize(self, text: str) -> str:
        pass

    @step("extract_topics")
    @agentic(prompt="List 3 topics, comma-separated:\\n{context.text}",
             model="claude-3-5-haiku-20241022", max_tokens=50, cost_limit=0.05, cache=True)
    def extract_topics(self, text: str) -> str:
        pass

    @step("analyze_sentiment")
    @agentic(prompt="One word, positive, negative or neutral:\\n{context.text}",
             model="claude-3-5-haiku-20241022", max_tokens=10, cost_limit=0.05, cache=True)
    def analyze_sentiment(self, text: str) -> str:
        pass

    def run(self) -> int:
        text = self.extract_text(self.fetch_article())
        summary = self.summarize(text)
        topics = [t.strip() for t in self.extract_topics(text).split(",")]
        sentiment = self.analyze_sentiment(text)
        self.save("analysis.json", {"summary": summary, "topics": topics, "sentiment": sentiment})
        if self.context:
            for name, data in self.context._steps.items():
                if "cost" in data:
                    label = "(cached)" if data.get("cached", False) else "(API call)"
                    self.log(f"  {name}: ${data['cost']:.6f} {label}")
            hits = sum(1 for data in self.context._steps.values() if data.get("cached", False))
            self.log(f"cache hits: {hits}")
        return 0


if __name__ == "__main__":
    ArticleAnalysis.main()
"""

# inbound_call_workflow: @on_event on the class, async steps that call tools through
# self.tool(name).call(...) and .run(...) (ToolEventType), run() driving them with
# asyncio.run.
INBOUND = """\
from pydantic import BaseModel, Field

from raw_runtime import BaseWorkflow, on_event, step
from raw_runtime.tools import ToolEventType


class CallParams(BaseModel):
    phone: str = Field(..., description="Caller phone number")
    call_sid: str = Field(default="", description="Twilio call SID")


@on_event("twilio.call.incoming")
class InboundCall(BaseWorkflow[CallParams]):
    @step("load_customer")
    async def load_customer(self) -> dict:
        result = await self.tool("crm").call(action="get_contact", phone=self.params.phone)
        if result.success:
            return result.data["result"]
        return {"phone": self.params.phone, "is_new": True}

    @step("handle_conversation")
    async def handle_conversation(self, customer: dict) -> dict:
        transcript = []
        outcome = None
        async for event in self.tool("converse").run(bot="support", context={"customer": customer}):
            if event.type == ToolEventType.MESSAGE:
                transcript.append({"role": event.data["role"], "text": event.data["text"]})
            elif event.type == ToolEventType.COMPLETED:
                outcome = event.data.get("outcome")
        return {"transcript": transcript, "outcome": outcome}

    @step("summarize_call")
    async def summarize_call(self, conversation: dict) -> str:
        text = "\\n".join(f"{m['role']}: {m['text']}" for m in conversation["transcript"])
        result = await self.tool("summarize").call(text=text, max_length=100)
        return result.data["result"] if result.success else "Summary generation failed"

    def run(self) -> int:
        import asyncio

        async def _run():
            customer = await self.load_customer()
            conversation = await self.handle_conversation(customer)
            summary = await self.summarize_call(conversation)
            self.save("call_result.json", {"customer": customer,
                                           "outcome": conversation["outcome"],
                                           "summary": summary})

        asyncio.run(_run())
        return 0


if __name__ == "__main__":
    InboundCall.main()
"""

# The project's own tools for INBOUND, in the layout the original's `raw create --tool`
# wrote (tools/<name>/tool.py): two @tool functions and one streaming Tool subclass.
INBOUND_TOOLS = {
    "crm": """\
from raw_runtime.tools import tool


@tool(description="Look a contact up by phone")
def crm(action: str, phone: str) -> dict:
    return {"id": "c-1", "name": "Ada", "phone": phone, "action": action}
""",
    "converse": """\
from raw_runtime.tools import Tool


class Converse(Tool):
    name = "converse"
    description = "A scripted conversation"

    async def run(self, **config):
        yield self._emit_started(**config)
        yield self._emit_message(role="caller", text="My order is late")
        yield self._emit_message(role="assistant", text="It ships tomorrow")
        yield self._emit_completed(outcome="resolved")
""",
    "summarize": """\
from raw_runtime.tools import tool


@tool(description="Summarize a transcript")
async def summarize(text: str, max_length: int = 100) -> str:
    return text.splitlines()[0][:max_length]
""",
}

# sentiment_analysis: raw_ai's @agent with a structured result_type, the docstring as
# the system prompt, output through self.console.print, the model_dump saved.
SENTIMENT = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2.0", "pydantic-ai>=0.0.17"]
# ///
from pydantic import BaseModel, Field

from raw_ai import agent
from raw_runtime import BaseWorkflow


class SentimentResult(BaseModel):
    score: float = Field(description="-1 (negative) to 1 (positive)")
    label: str = Field(description="positive, negative or neutral")
    confidence: float = Field(description="0 to 1")
    reasoning: str = Field(description="Why")


class SentimentParams(BaseModel):
    text: str = Field(description="Text to analyze")


class Sentiment(BaseWorkflow[SentimentParams]):
    @agent(result_type=SentimentResult, model="gpt-4o-mini")
    def analyze_sentiment(self, text: str) -> SentimentResult:
        """You are a sentiment analysis expert. Classify the text's tone."""
        ...

    def run(self) -> int:
        result = self.analyze_sentiment(self.params.text)
        self.console.print(f"[bold]Label:[/bold] {result.label}")
        self.console.print(f"Confidence: {result.confidence:.0%}")
        self.save("sentiment.json", result.model_dump())
        return 0


if __name__ == "__main__":
    Sentiment.main()
'''
