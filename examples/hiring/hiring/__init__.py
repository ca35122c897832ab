"""The hiring system: RAW workflows, a Temporal process, webhooks and state for one pipeline.

CV submitted (webhook) -> analyse -> reject, or invite to book a call -> wait up to
7 days for the booking (webhook) -> sleep until the call -> place it -> wait for the
call's status (webhook) -> summarise -> done. See README.md.
"""
