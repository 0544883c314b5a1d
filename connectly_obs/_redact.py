"""Redaction of personal data from text the library exports."""

from __future__ import annotations

import re

__all__ = ["PHONE_PLACEHOLDER", "SECRET_PLACEHOLDER", "clean_text", "redact_phone_numbers"]

PHONE_PLACEHOLDER = "[redacted phone]"
SECRET_PLACEHOLDER = "[redacted api key]"

# Shortest API key that is removed from exported text. Real keys are far
# longer, and replacing a short test key such as "k" would garble every word
# that contains it.
_MIN_SECRET_CHARS = 8

# Longest exported text, in characters. Connectly messages are a sentence or
# two; anything longer is cut so that one odd response cannot bloat a span.
_MAX_TEXT = 1024

# A phone number: an optional "+", then 7 to 15 digits (the E.164 maximum),
# with up to two spaces, dots, dashes or brackets between digits, as in
# "(415) 555 0123". A run of 16 or more digits is left alone: cntTraceId
# values are up to 20 digits, and the surrounding lookarounds stop the
# pattern from matching inside such a run.
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w])")


def redact_phone_numbers(text: str) -> str:
    """Replace everything that looks like a phone number with a placeholder."""
    return _PHONE.sub(PHONE_PLACEHOLDER, text)


def clean_text(text: str, secret: str | None = None) -> str:
    """Make a server-sent string safe to export: bounded, valid UTF-8, no phone numbers.

    `secret` is the API key the request sent. A server that echoes it in a
    message must not get it exported, so it is replaced before the text is cut,
    which could otherwise leave part of it behind.
    """
    if secret is not None and len(secret) >= _MIN_SECRET_CHARS and secret in text:
        text = text.replace(secret, SECRET_PLACEHOLDER)
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "..."
    # A lone surrogate (from a JSON escape such as "\ud800") cannot be encoded
    # by exporters, so it becomes U+FFFD.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return redact_phone_numbers(text)
