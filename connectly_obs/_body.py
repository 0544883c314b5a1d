"""Classification of error response bodies.

Pure functions over bytes and headers: the sync and async hooks read the body
their own way and hand it here.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import httpx

from ._error import ERROR_EXTENSION, ConnectlyError, error_fields

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyResult", "parse_body", "parse_error"]

# Bytes of an error body read and parsed, before and after decompression.
# Connectly error bodies are well under 4 KiB; a larger body is a gateway
# page or a misbehaving proxy, and is counted as "too_large" without parsing.
DEFAULT_MAX_BODY_BYTES = 64 * 1024

_JSON_DECODER = json.JSONDecoder()


class BodyResult:
    """The outcome of classifying a body: a Connectly error, or the reason it is not one.

    Counting needs only the error's type, code and cntTraceId, so the
    `ConnectlyError` itself is built when `error` is first read.
    """

    __slots__ = ("_data", "_error", "_status_code", "code", "reason", "trace_id", "type")

    def __init__(
        self,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        fields: tuple[str | None, str | None, str | None] = (None, None, None),
        status_code: int | None = None,
    ) -> None:
        self.reason = reason
        self.type, self.code, self.trace_id = fields
        self._data = data
        self._status_code = status_code
        self._error: ConnectlyError | None = None

    @property
    def error(self) -> ConnectlyError | None:
        """The Connectly error, or None when the body is not one and `reason` is set."""
        if self._error is None and self._data is not None:
            self._error = ConnectlyError.from_dict(self._data, self._status_code)
        return self._error


def parse_body(
    content: bytes,
    headers: httpx.Headers,
    status_code: int,
    *,
    encoded: bool,
    complete: bool = True,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> BodyResult:
    """Classify an error body.

    `encoded` is True when `content` is still in its Content-Encoding, as read
    from the raw stream. `complete` is False when the read stopped at the bound
    before the end of the body.
    """
    if not complete or len(content) > max_bytes:
        return BodyResult(reason="too_large")

    # `in` spares the KeyError that get() raises and catches for a missing header.
    if encoded and "content-encoding" in headers:
        decoded = _decode_content(content, headers["content-encoding"], max_bytes)
        if decoded is None:
            return BodyResult(reason="undecodable")
        if len(decoded) > max_bytes:
            return BodyResult(reason="too_large")
        content = decoded

    # ASCII without NUL bytes reads the same in UTF-8, in the ISO-8859 and
    # Windows code pages and in every other ASCII-compatible charset, so the
    # charset matters only for other text. UTF-16 and UTF-32 text has a NUL
    # byte beside every ASCII character, and a byte order mark is not ASCII.
    # Decoding as UTF-8 first is the cheapest test: str.isascii() reads a flag.
    # NOTE: a charset that is neither (UTF-7, say) is read as ASCII here.
    text = content.decode("utf-8", "replace")
    if not text.isascii() or "\x00" in text:
        text = _decode_text(content, text, headers)
    stripped = text.strip()
    if not stripped:
        return BodyResult(reason="empty")
    if stripped[0] == "<":
        return BodyResult(reason="html")

    try:
        # raw_decode() is json.loads() without its two whitespace regex
        # matches, which `stripped` makes unnecessary.
        data, end = _JSON_DECODER.raw_decode(stripped)
    except json.JSONDecodeError as exc:
        # JSON cut short fails at its very end, or inside its last string.
        cut_short = exc.pos >= len(stripped) or exc.msg.startswith("Unterminated string")
        return BodyResult(reason="truncated" if cut_short else "not_json")
    except (ValueError, RecursionError):
        # Integers too long to convert, or nesting too deep for the parser.
        return BodyResult(reason="not_json")
    if end != len(stripped):
        # Another value follows the first, which json.loads() rejects too.
        return BodyResult(reason="not_json")

    fields = error_fields(data)
    if fields is None:
        return BodyResult(reason="wrong_shape")
    return BodyResult(None, data, fields, status_code)


def _decode_content(content: bytes, encoding: str, max_bytes: int) -> bytes | None:
    """Undo a Content-Encoding, producing at most `max_bytes` + 1 bytes, or None."""
    decoded = content
    # Encodings are listed in the order they were applied.
    for name in reversed([part.strip().lower() for part in encoding.split(",") if part.strip()]):
        if name == "identity":
            continue
        if name in ("gzip", "x-gzip"):
            wbits = zlib.MAX_WBITS | 16
        elif name == "deflate":
            wbits = zlib.MAX_WBITS
        else:
            # NOTE: brotli and zstd bodies are not decoded here, so such error
            # bodies are counted as "undecodable". Connectly sends neither.
            return None
        try:
            decompressor = zlib.decompressobj(wbits)
            decoded = decompressor.decompress(decoded, max_bytes + 1)
        except zlib.error:
            if name != "deflate":
                return None
            # Some servers send raw deflate data without the zlib header.
            try:
                decoded = zlib.decompressobj(-zlib.MAX_WBITS).decompress(decoded, max_bytes + 1)
            except zlib.error:
                return None
    return decoded


def _decode_text(content: bytes, utf8_text: str, headers: httpx.Headers) -> str:
    """Decode a body that is not plain ASCII, by its byte order mark or charset.

    `utf8_text` is `content` decoded as UTF-8, returned when neither applies.
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", "replace")
    content_type = headers.get("content-type")
    # Connectly sends a bare "application/json", so most bodies skip the split.
    charset = _charset(content_type) if content_type and ";" in content_type else None
    if charset is None:
        return utf8_text
    try:
        return content.decode(charset, "replace")
    except LookupError:
        return utf8_text


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def parse_error(response: httpx.Response) -> ConnectlyError | None:
    """Return the Connectly error in a response, or None.

    Returns None for a status below 400 and for any body that is not a
    Connectly error, and swallows every Exception. It never reads an unread streamed body:
    for a streamed response it returns what the hooks parsed, or None when no
    hook saw the response and the body has not been read yet.
    """
    try:
        if response.status_code < 400:
            return None
        try:
            content = response.content
        except httpx.ResponseNotRead:
            stored = response.extensions.get(ERROR_EXTENSION)
            return stored.error if isinstance(stored, BodyResult) else None
        # `content` is already decoded, and the caller chose to read it whole.
        return parse_body(
            content, response.headers, response.status_code, encoded=False, max_bytes=len(content)
        ).error
    except Exception:
        return None
