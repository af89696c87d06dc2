"""Deep-link payloads for t.me/<bot>?start=<payload>: signed, so a forged one links nothing.

A payload is at most 64 characters of A-Za-z0-9_- (Telegram's rule): "<purpose><group id>-<signature>",
where the purpose is "g" (link me to the group) or "p" (write a proposal for the group); for
"o" and "r" (offer seats, ask for a seat) and "q" (ask a question) the id is a meeting's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_PAYLOAD_RE = re.compile(r"^([gporqnd])(\d{1,18})-([A-Za-z0-9_-]{12})$")
LINK_GROUP, PROPOSE = "g", "p"
CAR_OFFER, CAR_REQUEST = "o", "r"  # the id is a meeting's: start a carpool offer / request
ASK_QUESTION = "q"  # the id is a meeting's: ask the facilitators a question about it
NEED_CHILDCARE, NEED_DIET = "n", "d"  # the id is a meeting's: say a need to come


def derive_secret(token: str) -> bytes:
    return hashlib.sha256(b"relais-deeplink:" + token.encode()).digest()


def _sign(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)[:12].decode()


def group_payload(secret: bytes, group_id: int, purpose: str = LINK_GROUP) -> str:
    """A signed payload; group_id is a meeting id for the carpool purposes."""
    body = f"{purpose}{group_id}"
    return f"{body}-{_sign(secret, body)}"


def parse_payload(secret: bytes, payload: str) -> tuple[str, int] | None:
    """(purpose, group id) of a payload this bot signed; None for anything else."""
    match = _PAYLOAD_RE.match(payload or "")
    if not match:
        return None
    body = f"{match.group(1)}{match.group(2)}"
    if not hmac.compare_digest(_sign(secret, body), match.group(3)):
        return None
    return match.group(1), int(match.group(2))


def parse_group_payload(secret: bytes, payload: str) -> int | None:
    parsed = parse_payload(secret, payload)
    return parsed[1] if parsed and parsed[0] == LINK_GROUP else None


def start_url(bot_username: str, payload: str | None = None) -> str:
    return f"https://t.me/{bot_username}" + (f"?start={payload}" if payload else "")
