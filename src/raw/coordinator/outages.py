"""The services the dispatcher found away, and the records that wait for them.

Attempts are for failures of the action itself. When a service the action needs is
away (Temporal, an integration's server: the outcome is ``unavailable``), the
records that need it are not tried while it lasts, but for one probe every
``outage_probe_seconds`` at most (sooner at first). When a try gets through, the
outage is over.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from raw import clock
from raw.config.coordinator import DispatcherConfig
from raw.coordinator.actions import ActionOutcome, InboxItem

__all__ = ["WAITING_FOR", "Outage", "Outages"]

log = logging.getLogger("raw.coordinator.dispatcher")

WAITING_FOR = "Waiting for {service}, which is away"
"""How ``last_error`` starts for a record that waits for a service (no attempt spent)."""

_PROCESS_ACTIONS = frozenset({"start_process", "signal", "signal_with_start"})


@dataclass
class Outage:
    """A service that was away at the last try: since when, and when to try it again."""

    service: str
    since: datetime
    tries: int = 1
    next_try: float = 0.0
    """Loop time of the next probe; records that need the service wait until then."""
    probing: bool = False


class Outages:
    """One dispatcher's outages: which service each record needs, and when to probe it."""

    def __init__(self, config: DispatcherConfig, owner: str) -> None:
        self.config = config
        self.owner = owner
        self.by_service: dict[str, Outage] = {}
        """The services away at their last try, by name ('Temporal', 'email', ...)."""
        self._by_route: dict[str, str] = {}
        """Routes whose last try found a service away: their records wait for it too."""

    def needs(self, item: InboxItem) -> str | None:
        """The service an action needs, known before trying it: Temporal for a process
        action; for a workflow, the service its route's last try found away."""
        if item.action.get("kind") in _PROCESS_ACTIONS:
            return "Temporal"
        return self._by_route.get(item.route)

    def wait_for(self, item: InboxItem) -> ActionOutcome | None:
        """``unavailable`` without trying, while the service the action needs is away.

        One record at a time probes the service once its next try is due.
        """
        service = self.needs(item)
        outage = self.by_service.get(service) if service else None
        if outage is None or service is None:
            return None
        if outage.probing or asyncio.get_running_loop().time() < outage.next_try:
            return ActionOutcome.unavailable(service, "not tried: it was away at the last try")
        outage.probing = True
        return None

    def probed(self, service: str | None) -> None:
        """A try of an action that needs ``service`` ended: another may probe it."""
        outage = self.by_service.get(service) if service else None
        if outage is not None:
            outage.probing = False

    def tried(self, item: InboxItem, service: str | None, outcome: ActionOutcome) -> Outage | None:
        """Note what a try found; the outage it ended, if the service is back."""
        if outcome.status == "unavailable" and outcome.service:
            self._by_route[item.route] = outcome.service
            self._went_away(outcome.service)
        elif service is not None:
            self._by_route.pop(item.route, None)
            if service in self.by_service:
                return self.by_service.pop(service)
        return None

    def _went_away(self, service: str) -> None:
        outage = self.by_service.get(service)
        if outage is None:
            outage = self.by_service[service] = Outage(service, since=clock.now())
            log.warning(
                "dispatcher %s: %s is away; the records that need it wait for it "
                "(no attempts are spent) and are tried again when it is back",
                self.owner,
                service,
            )
        else:
            outage.tries += 1
        wait = min(
            self.config.outage_probe_seconds, self.config.base_delay_seconds * 2**outage.tries
        )
        outage.next_try = asyncio.get_running_loop().time() + wait
