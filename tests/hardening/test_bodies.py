"""Odd error bodies and headers through the hooks and instrument(), sync and async, mock and loopback.

Each case checks three things: the caller reads exactly the body the server
sent, the call is counted once under the right labels, and a scrape of the
registry still parses.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

import connectly_obs
from connectly_obs._names import ERRORS_TOTAL, REQUESTS_TOTAL, UNPARSED_ERRORS_TOTAL
from tests.core.helpers import PATH, ROUTE, error_body, errors, total, unparsed
from tests.hardening.harness import (
    CASE_HEADER,
    MODES,
    TRANSPORTS,
    Reply,
    Script,
    hook_errors,
    make_async_client,
    make_client,
    reply,
    scrape,
    serving,
)

ODD_TEXT = 'quote " backslash \\ newline \n tab \t bell \x07 nul \x00 end'
LONG_TEXT = "L" * 10_000


@dataclass(frozen=True)
class Expect:
    """What the hook should record: a Connectly error with these labels, or an unparsed reason."""

    type_label: str | None = None
    code_label: str | None = None
    reason: str | None = None
    decoded_body: bytes | None = None  # the body the caller reads, when it differs from the raw body
    fields: tuple[tuple[str, Any], ...] = ()  # attributes of parse_error(response) to compare


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def connectly(**overrides: Any) -> dict[str, Any]:
    fields = error_body()
    fields.update(overrides)
    return fields


VALID = json.dumps(error_body()).encode()
RATE_LIMIT = Expect("ERROR_TYPE_RATE_LIMIT", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED")
GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"

CASES: dict[str, tuple[Reply, Expect]] = {
    # Bodies that are not JSON.
    "gateway_html_502": (reply(502, GATEWAY_PAGE, "text/html"), Expect(reason="html")),
    "plain_text_500": (reply(500, b"Internal Server Error", "text/plain"), Expect(reason="not_json")),
    "empty_json_length_0": (
        reply(503, b"", headers=[("Content-Length", "0")]),
        Expect(reason="empty"),
    ),
    # Valid errors with odd framing.
    "error_as_text_plain": (reply(429, VALID, "text/plain"), RATE_LIMIT),
    "error_with_bom": (reply(429, b"\xef\xbb\xbf" + VALID), RATE_LIMIT),
    "error_in_latin1": (
        reply(429, json.dumps(connectly(message="Ça coûte"), ensure_ascii=False).encode("latin-1"),
              "application/json; charset=iso-8859-1"),
        Expect(RATE_LIMIT.type_label, RATE_LIMIT.code_label, fields=(("message", "Ça coûte"),)),
    ),
    "error_with_invalid_utf8": (reply(429, VALID.replace(b"Rate", b"R\xff\xfete")), RATE_LIMIT),
    "lone_surrogate_type": (
        reply(400, body(**connectly(type="ERROR_TYPE_\ud800"))),
        Expect("other", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", fields=(("type", "ERROR_TYPE_\ud800"),)),
    ),
    "lone_surrogate_code": (
        reply(400, body(**connectly(code="\ud800"))),
        Expect("ERROR_TYPE_RATE_LIMIT", "other", fields=(("code", "\ud800"),)),
    ),
    # JSON of the wrong shape.
    "truncated_json": (reply(500, VALID[: len(VALID) // 2]), Expect(reason="truncated")),
    "json_list": (reply(500, b'[{"type": "ERROR_TYPE_RATE_LIMIT"}]'), Expect(reason="wrong_shape")),
    "json_string": (reply(500, b'"ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"'), Expect(reason="wrong_shape")),
    "json_null": (reply(500, b"null"), Expect(reason="wrong_shape")),
    "json_number": (reply(500, b"500"), Expect(reason="wrong_shape")),
    "grpc_gateway_numeric_code": (
        reply(400, body(code=3, message="invalid argument", details=[{"@type": "type.googleapis.com/x"}])),
        Expect(reason="wrong_shape"),
    ),
    # Fields of the wrong type, missing or extra.
    "type_is_number": (
        reply(400, body(**connectly(type=7))),
        Expect("none", "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED", fields=(("type", None),)),
    ),
    "trace_id_null": (
        reply(429, body(**connectly(cntTraceId=None))),
        Expect(RATE_LIMIT.type_label, RATE_LIMIT.code_label, fields=(("trace_id", None),)),
    ),
    "details_is_list": (reply(429, body(**connectly(details=["a", 1]))), RATE_LIMIT),
    "details_is_string": (reply(429, body(**connectly(details="see docs"))), RATE_LIMIT),
    "only_code": (
        reply(400, body(code="ERROR_CODE_MESSAGE_TEXT_EMPTY")),
        Expect("none", "ERROR_CODE_MESSAGE_TEXT_EMPTY", fields=(("message", None),)),
    ),
    "only_type": (reply(401, body(type="ERROR_TYPE_AUTHENTICATION")), Expect("ERROR_TYPE_AUTHENTICATION", "none")),
    "extra_fields": (
        reply(429, body(**connectly(extra={"nested": [1, 2]}, retryAfter=3))),
        RATE_LIMIT,
    ),
    # Hostile strings.
    "odd_characters_everywhere": (
        reply(400, body(**connectly(type=ODD_TEXT, code=ODD_TEXT, message=ODD_TEXT, cntTraceId=ODD_TEXT))),
        Expect("other", "other", fields=(("message", ODD_TEXT), ("code", ODD_TEXT))),
    ),
    "ten_kilobyte_strings": (
        reply(400, body(**connectly(type=LONG_TEXT, code="ERROR_CODE_" + LONG_TEXT, message=LONG_TEXT,
                                    cntTraceId="1" * 10_000))),
        Expect("other", "other", fields=(("message", LONG_TEXT),)),
    ),
    # Content-Encoding.
    "gzip_error": (
        reply(429, gzip.compress(VALID), headers=[("Content-Encoding", "gzip")]),
        Expect(RATE_LIMIT.type_label, RATE_LIMIT.code_label, decoded_body=VALID),
    ),
    "gzip_html_page": (
        reply(502, gzip.compress(GATEWAY_PAGE), "text/html", headers=[("Content-Encoding", "gzip")]),
        Expect(reason="html", decoded_body=GATEWAY_PAGE),
    ),
}


def check_recorded(registry: CollectorRegistry, response: httpx.Response, scripted: Reply, expect: Expect) -> None:
    status = str(scripted.status)
    assert response.status_code == scripted.status
    assert response.content == (expect.decoded_body if expect.decoded_body is not None else scripted.body)
    assert total(registry, REQUESTS_TOTAL) == 1
    assert hook_errors(registry) == 0

    error = connectly_obs.parse_error(response)
    if expect.reason is not None:
        assert unparsed(registry, expect.reason, status, ROUTE) == 1
        assert total(registry, UNPARSED_ERRORS_TOTAL) == 1
        assert total(registry, ERRORS_TOTAL) == 0
        assert error is None
    else:
        assert errors(registry, str(expect.type_label), str(expect.code_label), status, ROUTE) == 1
        assert total(registry, ERRORS_TOTAL) == 1
        assert total(registry, UNPARSED_ERRORS_TOTAL) == 0
        assert error is not None
        for name, value in expect.fields:
            assert getattr(error, name) == value, name
    scrape(registry)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_sync_odd_body_recorded_once(case: str, mode: str, transport: str) -> None:
    registry = CollectorRegistry()
    scripted, expect = CASES[case]
    script = Script({case: scripted})
    with serving(transport, script) as base_url, make_client(mode, transport, script, registry,
                                                            base_url=base_url) as client:
        response = client.post(PATH, headers={CASE_HEADER: case})

    check_recorded(registry, response, scripted, expect)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.anyio
async def test_async_odd_body_recorded_once(case: str, mode: str, transport: str, anyio_backend: str) -> None:
    registry = CollectorRegistry()
    scripted, expect = CASES[case]
    script = Script({case: scripted})
    with serving(transport, script) as base_url:
        async with make_async_client(mode, transport, script, registry, base_url=base_url) as client:
            response = await client.post(PATH, headers={CASE_HEADER: case})

    check_recorded(registry, response, scripted, expect)
