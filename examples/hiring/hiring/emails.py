"""The emails the process sends, as plain text."""

from __future__ import annotations

import os
from urllib.parse import urlencode

from hiring.contracts import EmailKind

BOOKING_URL_SETTING = "HIRING_BOOKING_URL"
DEFAULT_BOOKING_URL = "https://cal.com/acme-hiring/screening-call"


def booking_link(candidate_id: str, name: str, email: str, booking_token: str) -> str:
    """The candidate's own calendar link; Cal.com passes its ``metadata[...]`` back in its
    webhook, where the token shows the booking was made through this link."""
    base = os.environ.get(BOOKING_URL_SETTING) or DEFAULT_BOOKING_URL
    query = urlencode(
        {
            "name": name,
            "email": email,
            "metadata[candidate_id]": candidate_id,
            "metadata[booking_token]": booking_token,
        }
    )
    return f"{base}?{query}"


def render(
    kind: EmailKind,
    *,
    candidate_id: str,
    name: str,
    email: str,
    position: str,
    booking_token: str = "",
) -> tuple[str, str]:
    """(subject, text) of one email."""
    first = name.split()[0] if name.strip() else "there"
    sign_off = "\n\nThe hiring team"
    if kind == "rejection":
        return (
            f"Your application for {position}",
            f"Hello {first},\n\nThank you for applying for {position}. We have decided not to "
            "move forward with your application this time." + sign_off,
        )
    if kind in ("scheduling", "reminder"):
        link = booking_link(candidate_id, name, email, booking_token)
        opener = (
            "We would like to talk with you"
            if kind == "scheduling"
            else "A reminder: we would still like to talk with you"
        )
        return (
            f"{'Book' if kind == 'scheduling' else 'Reminder: book'} your screening call "
            f"for {position}",
            f"Hello {first},\n\n{opener} about the {position} position. Please book a "
            f"20-minute call here:\n\n{link}\n\nWe will call you at the time you choose."
            + sign_off,
        )
    if kind == "no-booking":
        return (
            f"Your application for {position}",
            f"Hello {first},\n\nWe did not hear back about a call, so we have closed your "
            "application. You are welcome to apply again." + sign_off,
        )
    if kind == "unreachable":
        return (
            f"We could not reach you about {position}",
            f"Hello {first},\n\nWe tried to call you several times without success, so we "
            "have closed your application. Reply to this email to talk again." + sign_off,
        )
    return (
        f"Your application for {position} is withdrawn",
        f"Hello {first},\n\nAs you asked, we have withdrawn your application." + sign_off,
    )
