"""A WSGI app that sends WhatsApp messages through Connectly and serves /metrics.

Run it under gunicorn with the settings in gunicorn.conf.py:

    export PROMETHEUS_MULTIPROC_DIR=/run/myapp/prometheus CONNECTLY_API_KEY=...
    gunicorn -c gunicorn.conf.py --workers 4 wsgi_app:app

In a Flask app, mount the metrics app with werkzeug's dispatcher instead:

    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": connectly_obs.make_wsgi_app()})
"""

import json
import os

import httpx

import connectly_obs

BASE_URL = os.environ.get("CONNECTLY_BASE_URL", "https://api.connectly.ai")
API_KEY = os.environ.get("CONNECTLY_API_KEY", "")
BUSINESS_ID = os.environ.get("CONNECTLY_BUSINESS_ID", "3f2a9c1e-7b4d-4e8a-9f10-2c5d6e7f8a90")

# Created when a worker imports this module. With gunicorn's --preload the
# master would create it and the workers would share its connection pool
# across fork(), so create the client in a post_fork hook in that case.
client = connectly_obs.instrument(
    httpx.Client(base_url=BASE_URL, headers={"X-API-Key": API_KEY}, timeout=10.0)
)
metrics_app = connectly_obs.make_wsgi_app()


def _json(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def send_message(environ, start_response):
    """Send the message in the JSON request body, {"to": ..., "text": ...}, to one WhatsApp user."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    request = json.loads(environ["wsgi.input"].read(length) or b"{}")
    payload = {"recipient": {"id": request.get("to", "")}, "text": request.get("text", "")}
    try:
        response = client.post(f"/v1/businesses/{BUSINESS_ID}/send/messages", json=payload)
    except httpx.TransportError as exc:
        return _json(start_response, "502 Bad Gateway", {"error": type(exc).__name__})

    error = connectly_obs.parse_error(response)
    if error is not None:
        return _json(start_response, "502 Bad Gateway", {"error": error.code, "message": error.user_message})
    return _json(start_response, "202 Accepted", {"sent": True})


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/metrics":
        return metrics_app(environ, start_response)
    if path == "/messages" and environ["REQUEST_METHOD"] == "POST":
        return send_message(environ, start_response)
    return _json(start_response, "404 Not Found", {"error": "not found"})
