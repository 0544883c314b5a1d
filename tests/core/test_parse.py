"""parse_body, parse_error and ConnectlyError on odd input."""

from __future__ import annotations

import dataclasses
import gzip
import json

import httpx
import pytest

from connectly_obs import ConnectlyError, parse_error
from connectly_obs._body import parse_body
from tests.core.helpers import error_body, error_response

JSON = httpx.Headers({"Content-Type": "application/json"})


def reason_of(content: bytes, headers: httpx.Headers = JSON, **options: object) -> str | None:
    return parse_body(content, headers, 500, encoded=True, **options).reason  # type: ignore[arg-type]


def test_connectly_body_parses_every_field() -> None:
    body = error_body()
    body["details"] = {"field": "recipient"}
    error = parse_body(json.dumps(body).encode(), JSON, 429, encoded=True).error

    assert error is not None
    assert error.message == body["message"]
    assert error.type == "ERROR_TYPE_RATE_LIMIT"
    assert error.code == "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"
    assert error.user_title == body["userTitle"]
    assert error.user_message == body["userMessage"]
    assert error.trace_id == "11824978358485860716"
    assert dict(error.details) == {"field": "recipient"}
    assert error.status_code == 429


def test_connectly_error_is_immutable() -> None:
    error = ConnectlyError.from_dict(error_body())
    assert error is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.code = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        error.details["new"] = 1  # type: ignore[index]
    assert hash(error) == hash(ConnectlyError.from_dict(error_body()))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<html><body>502 Bad Gateway</body></html>", "html"),
        (b"Internal Server Error", "not_json"),
        (b'{"message": "x", "type": "ERROR_TY', "truncated"),
        (b'{"message": "x", "type": ', "truncated"),
        (b"[1, 2]", "wrong_shape"),
        (b'"text"', "wrong_shape"),
        (b"null", "wrong_shape"),
        (b"42", "wrong_shape"),
        (b'{"code": 3, "message": "bad", "details": []}', "wrong_shape"),
        (b"[" * 60_000, "not_json"),
        (b"1" * 10_000, "not_json"),
    ],
)
def test_odd_bodies_have_a_reason(content: bytes, reason: str) -> None:
    assert reason_of(content) == reason


def test_body_over_bound_is_too_large() -> None:
    assert reason_of(json.dumps(error_body()).encode(), max_bytes=10) == "too_large"
    assert parse_body(b"{}", JSON, 500, encoded=True, complete=False).reason == "too_large"


def test_gzip_body_is_decoded() -> None:
    headers = httpx.Headers({"Content-Type": "application/json", "Content-Encoding": "gzip"})
    result = parse_body(gzip.compress(json.dumps(error_body()).encode()), headers, 429, encoded=True)
    assert result.error is not None
    assert result.error.code == "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"


def test_false_gzip_is_undecodable() -> None:
    headers = httpx.Headers({"Content-Encoding": "gzip"})
    assert reason_of(json.dumps(error_body()).encode(), headers) == "undecodable"


def test_gzip_bomb_stops_at_bound() -> None:
    headers = httpx.Headers({"Content-Encoding": "gzip"})
    assert reason_of(gzip.compress(b" " * 10_000_000), headers) == "too_large"


def test_wrong_content_type_still_parses() -> None:
    headers = httpx.Headers({"Content-Type": "text/plain"})
    assert parse_body(json.dumps(error_body()).encode(), headers, 400, encoded=True).error is not None


def test_bom_and_charsets() -> None:
    body = json.dumps(error_body(message="Ça coûte")).encode()
    assert parse_body(b"\xef\xbb\xbf" + body, JSON, 400, encoded=True).error is not None
    latin = httpx.Headers({"Content-Type": "application/json; charset=iso-8859-1"})
    error = parse_body(json.dumps(error_body(message="Ça"), ensure_ascii=False).encode("latin-1"), latin, 400,
                       encoded=True).error
    assert error is not None and error.message == "Ça"
    invalid = json.dumps(error_body()).encode().replace(b"Rate", b"R\xffte")
    assert parse_body(invalid, JSON, 400, encoded=True).error is not None


def test_wrong_field_types_become_none() -> None:
    body = {"type": 7, "code": "ERROR_CODE_MESSAGE_TEXT_EMPTY", "cntTraceId": None, "details": ["a"], "message": 1}
    error = parse_body(json.dumps(body).encode(), JSON, 400, encoded=True).error
    assert error is not None
    assert error.type is None
    assert error.trace_id is None
    assert error.message is None
    assert dict(error.details) == {}


def test_parse_error_on_responses() -> None:
    assert parse_error(httpx.Response(200, json=error_body())) is None
    assert parse_error(httpx.Response(502, text="<html></html>")) is None
    error = parse_error(error_response(429))
    assert error is not None and error.status_code == 429


def test_parse_error_never_raises() -> None:
    class Odd:
        status_code = "not a number"

    assert parse_error(Odd()) is None  # type: ignore[arg-type]


def test_corrective_action_from_catalog() -> None:
    error = ConnectlyError.from_dict(error_body(code="ERROR_CODE_BUSINESS_REACHED_LIMITS"))
    assert error is not None and error.corrective_action is not None
    undocumented = ConnectlyError.from_dict(error_body(type_="ERROR_TYPE_NEW", code="ERROR_CODE_NEW"))
    assert undocumented is not None and undocumented.corrective_action is None
