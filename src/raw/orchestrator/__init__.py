"""The orchestrator kit: RAW workflows inside durable Temporal processes.

Install with ``pip install 'raw-systems[orchestrator]'``. Built on the official
``temporalio`` SDK and Temporal's own servers.
"""
