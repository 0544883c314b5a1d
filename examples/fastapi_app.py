"""A FastAPI app that sends WhatsApp messages through Connectly and serves /metrics.

One process, keeping exemplars:

    CONNECTLY_API_KEY=... uvicorn fastapi_app:app --host 0.0.0.0 --port 8000

Several worker processes, without exemplars: create an empty directory and set
PROMETHEUS_MULTIPROC_DIR before uvicorn starts.

    export PROMETHEUS_MULTIPROC_DIR=/run/myapp/prometheus
    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    uvicorn fastapi_app:app --host 0.0.0.0 --port 8000 --workers 4
"""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import connectly_obs

BASE_URL = os.environ.get("CONNECTLY_BASE_URL", "https://api.connectly.ai")
API_KEY = os.environ.get("CONNECTLY_API_KEY", "")
BUSINESS_ID = os.environ.get("CONNECTLY_BUSINESS_ID", "3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a90")


class Message(BaseModel):
    to: str
    text: str


def create_app(registry=None):
    """Build the app; `registry` is for tests, production uses the default registry."""
    client = connectly_obs.instrument(
        httpx.AsyncClient(base_url=BASE_URL, headers={"X-API-Key": API_KEY}, timeout=10.0),
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(app):
        yield
        await client.aclose()

    app = FastAPI(lifespan=lifespan)
    # add_route serves exactly /metrics; app.mount("/metrics", ...) would
    # redirect /metrics to /metrics/ first.
    app.add_route("/metrics", connectly_obs.make_asgi_app(registry=registry))

    @app.post("/messages")
    async def send_message(message: Message):
        payload = {"recipient": {"id": message.to}, "text": message.text}
        try:
            response = await client.post(f"/v1/businesses/{BUSINESS_ID}/send/messages", json=payload)
        except httpx.TransportError as exc:
            return JSONResponse({"error": type(exc).__name__}, status_code=502)
        error = connectly_obs.parse_error(response)
        if error is not None:
            return JSONResponse({"error": error.code, "message": error.user_message}, status_code=502)
        return JSONResponse({"sent": True}, status_code=202)

    return app


app = create_app()
