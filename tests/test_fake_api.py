"""The fake Connectly API behaves as the documentation describes."""

from __future__ import annotations

import httpx
import pytest

from connectly_obs._catalog import CODES, TYPES
from connectly_obs.testing import REPLY_HEADER, SCENARIOS, FakeConnectlyAPI
from tests.conftest import API_KEY

SEND = "/v1/businesses/3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a90/send/messages"


def test_missing_or_wrong_key_is_authentication_error(fake_api: FakeConnectlyAPI) -> None:
    with httpx.Client(base_url=fake_api.base_url) as client:
        missing = client.post(SEND)
        wrong = client.post(SEND, headers={"X-API-Key": "wrong"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["type"] == "ERROR_TYPE_AUTHENTICATION"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/businesses/b1/send/messages",
        "/v1/businesses/b1/send/whatsapp_templated_messages",
        "/v1/businesses/b1/create/webhooks",
        "/v1/businesses/b1/campaigns/c1/sendouts",
    ],
)
def test_documented_endpoints_succeed(fake_api: FakeConnectlyAPI, path: str) -> None:
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}) as client:
        response = client.post(path, json={"recipient": {"id": "+14155550123"}})
    assert response.status_code == 200


def test_unknown_path_is_not_found(fake_api: FakeConnectlyAPI) -> None:
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}) as client:
        response = client.get("/v2/elsewhere")
    assert response.status_code == 404
    assert response.json()["type"] == "ERROR_TYPE_NOT_FOUND"


def test_every_documented_value_has_a_reply(fake_api: FakeConnectlyAPI) -> None:
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}) as client:
        for name, entry in {**CODES, **TYPES}.items():
            response = client.post(SEND, headers={REPLY_HEADER: name})
            body = response.json()
            assert response.status_code == entry.status_code, name
            assert name in (body["type"], body["code"])
            assert body["cntTraceId"].isdigit()
            assert len(body["cntTraceId"]) <= 20
            assert set(body) == {"message", "type", "code", "userTitle", "userMessage", "cntTraceId", "details"}


def test_rate_limit_carries_retry_after(fake_api: FakeConnectlyAPI) -> None:
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}) as client:
        response = client.post(SEND, headers={REPLY_HEADER: "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 5


def test_special_replies(fake_api: FakeConnectlyAPI) -> None:
    with httpx.Client(base_url=fake_api.base_url, headers={"X-API-Key": API_KEY}, timeout=0.3) as client:
        gateway = client.post(SEND, headers={REPLY_HEADER: "gateway-502"})
        empty = client.post(SEND, headers={REPLY_HEADER: "empty-503"})
        undocumented = client.post(SEND, headers={REPLY_HEADER: "undocumented"})
        unknown = client.post(SEND, headers={REPLY_HEADER: "nonsense"})
        with pytest.raises(httpx.ReadTimeout):
            client.post(SEND, headers={REPLY_HEADER: "slow"})

    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"] == "text/html"
    assert empty.status_code == 503
    assert empty.content == b""
    assert undocumented.json()["code"] not in CODES
    assert unknown.status_code == 400
    assert "'nonsense'; expected one of ok, undocumented," in unknown.json()["message"]


def test_fake_takes_a_burst_of_connections(fake_api: FakeConnectlyAPI) -> None:
    # A listen backlog of 5 delays the rest of a burst by a SYN retry each.
    assert fake_api._server is not None
    assert fake_api._server.request_queue_size >= 64


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenarios_are_repeatable(scenario: str) -> None:
    outcomes = []
    for _ in range(2):
        with FakeConnectlyAPI(api_key="k", scenario=scenario, seed=11, slow_seconds=0.01) as api:
            client = httpx.Client(base_url=api.base_url, headers={"X-API-Key": "k"})
            outcomes.append([client.post(SEND).status_code for _ in range(30)])
            client.close()
    assert outcomes[0] == outcomes[1]
    if scenario == "healthy":
        assert set(outcomes[0]) == {200}


def test_unknown_scenario_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'chaos'"):
        FakeConnectlyAPI(scenario="chaos")
