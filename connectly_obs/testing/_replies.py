"""Replies of the fake Connectly API, and the traffic mix of each scenario."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._catalog import CODES, TYPES, CatalogEntry

__all__ = ["REPLY_KINDS", "SCENARIOS", "SPECIAL_KINDS", "Reply", "build_reply"]


@dataclass(frozen=True)
class Reply:
    """An HTTP response of the fake API, before it is written."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    # Seconds to wait before replying, for replies that should trip timeouts.
    delay: float = 0.0


# Messages that mention the recipient's number, so that the demo shows the
# hook redacting phone numbers from what it exports.
_PHONE_MESSAGES = {
    "ERROR_CODE_PHONE_NUMBER_BAD_FORMAT": "The recipient phone number +1 415 555 0100 is badly formatted.",
    "ERROR_CODE_MESSAGE_PHONE_NUMBER_INVALID": "The recipient phone number +14155550101 is not valid.",
    "ERROR_CODE_MESSAGE_CUSTOMER_OPTED_OUT": "Customer +44 20 7946 0958 opted out of template messages.",
}

_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

# Special reply kinds, beside the documented codes and types.
SPECIAL_KINDS = (
    "ok",
    "undocumented",  # a well-formed code that the documentation does not list
    "gateway-502",  # an HTML page from a proxy in front of the API
    "empty-503",  # no body at all
    "truncated",  # JSON cut short
    "slow",  # a success that arrives after the client has given up
)

REPLY_KINDS: tuple[str, ...] = (*SPECIAL_KINDS, *CODES, *TYPES)

# Relative weights of reply kinds per scenario. The demo picks one kind per
# request at random with these weights.
SCENARIOS: dict[str, dict[str, float]] = {
    "healthy": {"ok": 1.0},
    "mixed": {
        "ok": 70.0,
        **{code: 1.0 for code in CODES},
        **{type_: 0.5 for type_ in TYPES},
        "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED": 3.0,
        "undocumented": 1.0,
        "gateway-502": 1.0,
        "empty-503": 1.0,
        "truncated": 0.5,
        "slow": 0.5,
    },
    "rate-limit-storm": {
        "ok": 30.0,
        "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED": 45.0,
        "ERROR_TYPE_RATE_LIMIT": 25.0,
    },
    "business-limit": {
        "ok": 50.0,
        "ERROR_CODE_BUSINESS_REACHED_LIMITS": 35.0,
        "ERROR_TYPE_BUSINESS_LIMIT": 15.0,
    },
    "auth-failure": {
        "ok": 30.0,
        "ERROR_TYPE_AUTHENTICATION": 50.0,
        "ERROR_TYPE_AUTHORIZATION": 20.0,
    },
}


def _trace_id(rng: random.Random) -> str:
    # cntTraceId is a 64-bit id written in decimal.
    return str(rng.getrandbits(64))


def error_reply(
    type_: str,
    code: str,
    status: int,
    message: str,
    rng: random.Random,
    *,
    entry: CatalogEntry | None = None,
) -> Reply:
    """Build a Connectly error body."""
    body = {
        "message": message,
        "type": type_,
        "code": code,
        "userTitle": message,
        "userMessage": "Pass along the Connectly trace id to the team for more information.",
        "cntTraceId": _trace_id(rng),
        "details": {},
    }
    headers = {"Content-Type": "application/json"}
    if status == 429:
        headers["Retry-After"] = str(rng.randint(1, 5))
    return Reply(status, json.dumps(body).encode(), headers)


def build_reply(kind: str, rng: random.Random, *, slow_seconds: float = 3.0) -> Reply:
    """Build the reply of one kind: a documented code or type, or a special kind."""
    if kind in CODES:
        entry = CODES[kind]
        message = _PHONE_MESSAGES.get(kind, entry.meaning)
        return error_reply(entry.paired_with, kind, entry.status_code, message, rng)
    if kind in TYPES:
        entry = TYPES[kind]
        return error_reply(kind, entry.paired_with, entry.status_code, entry.meaning, rng)
    if kind == "ok":
        body = {"id": f"msg_{rng.getrandbits(80):020x}", "status": "accepted"}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
    if kind == "undocumented":
        return error_reply(
            "ERROR_TYPE_INVALID_REQUEST",
            "ERROR_CODE_MESSAGE_MEDIA_TYPE_UNSUPPORTED",
            400,
            "The attachment media type is not supported.",
            rng,
        )
    if kind == "gateway-502":
        return Reply(502, _GATEWAY_PAGE, {"Content-Type": "text/html"})
    if kind == "empty-503":
        return Reply(503, b"", {"Content-Type": "application/json"})
    if kind == "truncated":
        return Reply(500, b'{"message": "Internal error", "type": "ERROR_TY', {"Content-Type": "application/json"})
    if kind == "slow":
        ok = build_reply("ok", rng)
        return Reply(ok.status, ok.body, ok.headers, delay=slow_seconds)
    raise ValueError(f"unknown reply kind {kind!r}; expected one of: {', '.join(REPLY_KINDS)}")
