"""The coordinator kit: FastAPI webhooks, a transactional inbox, database state, a status API.

Install with ``pip install 'raw-systems[coordinator]'``.
"""
