"""The coordinator kit: FastAPI webhooks, a transactional inbox, database state, a status API.

Install with ``pip install 'raw-systems[coordinator]'``. Webhook routes, their
actions and the dispatcher are configured in ``.raw/config.yaml`` (docs/coordinator.md);
a system's own code uses these names::

    from raw.coordinator import Coordinator, mount_coordinator, require_api_token

- the app: :class:`Coordinator`, :func:`create_app`, :func:`load_app` (the one
  ``raw serve`` runs), :func:`mount_coordinator` (onto your own FastAPI app);
- your own routes: :func:`require_api_token`, :class:`ResourceNotFoundError` (a 404);
- handlers: :class:`Delivery` (the stored delivery), :class:`Ignored` (take a
  delivery in without acting on it);
- the database: :class:`Database`, :func:`database_url`, :func:`normalize_url`,
  :func:`upgrade` and :func:`upgrade_system` (the kit's and the system's migrations),
  :class:`UTCDateTime` (a column type), :func:`erase_entity`;
- signatures: :func:`register_scheme`, :class:`SignedRequest`,
  :class:`SignatureError`, :func:`public_base_url`;
- signed test deliveries: :func:`load_schemes`, :func:`encode_body`,
  :func:`signed_delivery`.

Names load on first use (:mod:`raw._lazy`): a run that indexes itself imports
``raw.coordinator.db.run_index``, and this package must not bring FastAPI with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raw._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from raw.coordinator.api import require_api_token as require_api_token
    from raw.coordinator.app import Coordinator as Coordinator
    from raw.coordinator.app import create_app as create_app
    from raw.coordinator.app import load_app as load_app
    from raw.coordinator.app import mount_coordinator as mount_coordinator
    from raw.coordinator.db.database import Database as Database
    from raw.coordinator.db.database import database_url as database_url
    from raw.coordinator.db.database import normalize_url as normalize_url
    from raw.coordinator.db.database import upgrade as upgrade
    from raw.coordinator.db.models import Delivery as Delivery
    from raw.coordinator.db.models import UTCDateTime as UTCDateTime
    from raw.coordinator.db.retention import erase_entity as erase_entity
    from raw.coordinator.db.system_migrations import upgrade_system as upgrade_system
    from raw.coordinator.errors import ResourceNotFoundError as ResourceNotFoundError
    from raw.coordinator.ingest import Ignored as Ignored
    from raw.coordinator.sender import encode_body as encode_body
    from raw.coordinator.sender import load_schemes as load_schemes
    from raw.coordinator.sender import signed_delivery as signed_delivery
    from raw.coordinator.verify import SignatureError as SignatureError
    from raw.coordinator.verify import SignedRequest as SignedRequest
    from raw.coordinator.verify import public_base_url as public_base_url
    from raw.coordinator.verify import register_scheme as register_scheme

_EXPORTS = {
    "Coordinator": "raw.coordinator.app",
    "create_app": "raw.coordinator.app",
    "Database": "raw.coordinator.db.database",
    "database_url": "raw.coordinator.db.database",
    "Delivery": "raw.coordinator.db.models",
    "encode_body": "raw.coordinator.sender",
    "erase_entity": "raw.coordinator.db.retention",
    "Ignored": "raw.coordinator.ingest",
    "load_app": "raw.coordinator.app",
    "load_schemes": "raw.coordinator.sender",
    "mount_coordinator": "raw.coordinator.app",
    "normalize_url": "raw.coordinator.db.database",
    "public_base_url": "raw.coordinator.verify",
    "register_scheme": "raw.coordinator.verify",
    "require_api_token": "raw.coordinator.api",
    "ResourceNotFoundError": "raw.coordinator.errors",
    "SignatureError": "raw.coordinator.verify",
    "signed_delivery": "raw.coordinator.sender",
    "SignedRequest": "raw.coordinator.verify",
    "upgrade": "raw.coordinator.db.database",
    "upgrade_system": "raw.coordinator.db.system_migrations",
    "UTCDateTime": "raw.coordinator.db.models",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
