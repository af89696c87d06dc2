"""Deep-link payloads for t.me/<bot>?start=<payload>: signed, so a forged one links nothing.

A payload is at most 64 characters of A-Za-z0-9_- (Telegram's rule): "g<group id>-<signature>".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_GROUP_RE = re.compile(r"^g(\d{1,18})-([A-Za-z0-9_-]{12})$")


def derive_secret(token: str) -> bytes:
    return hashlib.sha256(b"relais-deeplink:" + token.encode()).digest()


def _sign(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)[:12].decode()


def group_payload(secret: bytes, group_id: int) -> str:
    body = f"g{group_id}"
    return f"{body}-{_sign(secret, body)}"


def parse_group_payload(secret: bytes, payload: str) -> int | None:
    match = _GROUP_RE.match(payload or "")
    if not match:
        return None
    body = f"g{match.group(1)}"
    if not hmac.compare_digest(_sign(secret, body), match.group(2)):
        return None
    return int(match.group(1))


def start_url(bot_username: str, payload: str | None = None) -> str:
    return f"https://t.me/{bot_username}" + (f"?start={payload}" if payload else "")
