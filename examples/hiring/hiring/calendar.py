"""Cal.com's webhook signature, added to the coordinator through its scheme interface.

Cal.com signs each delivery's raw body with HMAC-SHA256 and the webhook's secret,
hex-encoded in ``X-Cal-Signature-256``. It sends no delivery id and no timestamp:
the route keys deliveries on the booking (``delivery_key: delivery``), so a
resent booking is stored once. Registered by naming it in
``system.coordinator.schemes`` (``hiring.calendar:CAL_COM``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from raw.coordinator.verify import SignatureError, SignedRequest


class CalComScheme:
    name = "cal-com"
    header = "X-Cal-Signature-256"

    @staticmethod
    def _signature(secret: str, body: bytes) -> str:
        return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        given = request.headers.get(self.header, "").strip().lower()
        if not given:
            raise SignatureError(f"the {self.header} header is missing", scheme=self.name)
        if not any(
            hmac.compare_digest(given.encode(), self._signature(s, request.body).encode())
            for s in secrets
        ):
            raise SignatureError(
                f"the {self.header} header matches none of the route's secrets", scheme=self.name
            )

    def delivery_id(self, request: SignedRequest) -> str | None:
        return None

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        url: str,
        form: dict[str, str] | None,
        now: datetime,
        delivery_id: str,
    ) -> dict[str, str]:
        return {self.header: self._signature(secret, body)}


CAL_COM = CalComScheme()
