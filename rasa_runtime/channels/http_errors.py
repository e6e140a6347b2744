"""Malformed requests that Sanic rejects before any route runs get a 400, not a 500.

Sanic 21.12 (Rasa 3.6's) parses the request head itself; a header it cannot parse (for
example ``Content-Length: abc``) raises ``ValueError`` there, and its default error handler
answers 500 for every exception. Found by ``tests/e2e/test_fuzz_http.py``. Only requests that
never reached a route are answered this way: a ``ValueError`` inside a handler stays a 500, as
it is our bug, not the client's.
"""

from __future__ import annotations

from sanic import Sanic, response

BAD_REQUEST = {"error": "bad_request", "message": "Die Anfrage ist fehlerhaft."}
_INSTALLED = "_ba_bad_request_handler"


def install_bad_request_handler(app: Sanic) -> None:
    if getattr(app.ctx, _INSTALLED, False):
        return
    handler = app.error_handler

    def bad_request_before_routing(request, exception):
        if getattr(request, "route", None) is None:
            return response.json(BAD_REQUEST, status=400)
        return handler.default(request, exception)

    handler.add(ValueError, bad_request_before_routing)
    setattr(app.ctx, _INSTALLED, True)
