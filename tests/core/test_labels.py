"""Bounded label values: routes, types, codes, business ids."""

from __future__ import annotations

import pytest

from connectly_obs._labels import LabelPolicy, method_label, status_code_label
from connectly_obs._redact import clean_text, redact_phone_numbers


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v1/businesses/3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a90/send/messages",
         "/v1/businesses/{businessId}/send/messages"),
        ("/v1/businesses/b1/send/whatsapp_templated_messages",
         "/v1/businesses/{businessId}/send/whatsapp_templated_messages"),
        ("/v1/businesses/b1/create/webhooks", "/v1/businesses/{businessId}/create/webhooks"),
        ("/v1/businesses/b1/campaigns/01HZX3K4Q9/sendouts", "/v1/businesses/{businessId}/campaigns/{id}/sendouts"),
        ("/v1/businesses/b1/customers/+14155550123", "/v1/businesses/{businessId}/customers/{id}"),
        ("/v1/ping", "/v1/ping"),
        ("/", "/"),
        ("/a/b/c/d/e/f/g/h/i/j/k/l", "other"),
    ],
)
def test_route_templates(path: str, route: str) -> None:
    assert LabelPolicy().route(path) == route


def test_routes_stop_at_bound() -> None:
    labels = LabelPolicy(max_routes=3)
    routes = {labels.route(f"/v1/area{'x' * index}/list") for index in range(10)}
    assert len(routes - {"other"}) == 3
    assert "other" in routes


def test_documented_values_never_fall_back() -> None:
    labels = LabelPolicy(max_undocumented=2)
    for index in range(10):
        labels.error_code(f"ERROR_CODE_NEW_{index}")
    assert labels.error_code("ERROR_CODE_BUSINESS_REACHED_LIMITS") == "ERROR_CODE_BUSINESS_REACHED_LIMITS"
    assert labels.error_code("ERROR_CODE_UNSPECIFIED") == "ERROR_CODE_UNSPECIFIED"
    assert labels.error_type("ERROR_TYPE_CONTEXT_CANCELED") == "ERROR_TYPE_CONTEXT_CANCELED"
    assert labels.error_code("ERROR_CODE_NEW_0") == "ERROR_CODE_NEW_0"
    assert labels.error_code("ERROR_CODE_NEW_9") == "other"


@pytest.mark.parametrize("value", ["error_code_x", "ERROR_TYPE_X", "ERROR_CODE_\ud800", "ERROR_CODE_" + "A" * 200,
                                   'ERROR_CODE_"x', "NOT_FOUND"])
def test_odd_codes_become_other(value: str) -> None:
    assert LabelPolicy().error_code(value) == "other"


@pytest.mark.parametrize("value", [None, 7, "", ["ERROR_CODE_X"]])
def test_missing_codes_become_none(value: object) -> None:
    assert LabelPolicy().error_code(value) == "none"


def test_business_ids_are_bounded() -> None:
    labels = LabelPolicy(max_business_ids=2)
    assert labels.business_id("/v1/businesses/a/send/messages") == "a"
    assert labels.business_id("/v1/businesses/b/send/messages") == "b"
    assert labels.business_id("/v1/businesses/c/send/messages") == "other"
    assert labels.business_id("/v1/businesses/a%20b/send/messages") == "other"
    assert labels.business_id("/v1/ping") == "none"


def test_method_and_status_labels() -> None:
    assert method_label("POST") == "POST"
    assert method_label("BREW") == "_OTHER"
    assert status_code_label(429) == "429"
    assert status_code_label(999) == "other"


@pytest.mark.parametrize(
    "text",
    [
        "+1 415 555 0123",
        "+14155550123",
        "call (415) 555-0123 now",
        "call (415) 555 0123 now",
        "+1 (415) 555-0123",
        "+44 20 7946 0958",
        "5511987654321",
    ],
)
def test_phone_numbers_are_redacted(text: str) -> None:
    redacted = redact_phone_numbers(text)
    assert "[redacted phone]" in redacted
    assert "415" not in redacted
    assert "555" not in redacted
    assert "7946" not in redacted
    assert "98765" not in redacted


def test_trace_ids_are_not_redacted() -> None:
    assert redact_phone_numbers("trace 11824978358485860716") == "trace 11824978358485860716"


def test_clean_text_removes_api_key() -> None:
    key = "cnt_live_8f3a9c2b7d"
    # The second copy straddles the 1,024-character cut.
    text = f"Invalid API key {key} for business " + "x" * 966 + key

    cleaned = clean_text(text, key)

    assert key not in cleaned
    assert "cnt_live" not in cleaned
    assert cleaned.startswith("Invalid API key [redacted api key] for business")


def test_clean_text_keeps_short_keys() -> None:
    # Test keys such as "k" are too short to remove without garbling words.
    assert clean_text("keep looking", "k") == "keep looking"
    assert clean_text("no key here", None) == "no key here"


def test_clean_text_bounds_and_repairs() -> None:
    assert clean_text("a\ud800b") == "a\ufffdb"
    assert len(clean_text("x" * 10_000)) < 1100
