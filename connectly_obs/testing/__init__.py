"""A fake Connectly API for tests, the demo and users' own test suites.

    from connectly_obs.testing import FakeConnectlyAPI

    with FakeConnectlyAPI(api_key="k", scenario="mixed", seed=1) as api:
        client = httpx.Client(base_url=api.base_url, headers={"X-API-Key": "k"})
        client.post(
            "/v1/businesses/b1/send/messages",
            headers={"X-Fake-Reply": "ERROR_CODE_BUSINESS_REACHED_LIMITS"},
        )

NOTE: Connectly does not document which HTTP status carries each error, so the
statuses here are plausible choices, not a copy of the real API's.
"""

from ._replies import REPLY_KINDS, SCENARIOS, Reply, build_reply
from ._server import REPLY_HEADER, FakeConnectlyAPI

__all__ = ["REPLY_HEADER", "REPLY_KINDS", "SCENARIOS", "FakeConnectlyAPI", "Reply", "build_reply"]
