"""Prometheus metrics of every process (issue 18): one registry per process, served at /metrics.

What is counted (labels are closed sets: channel names, procedure ids from the catalogue,
outcome words; never a conversation id, a name or a text):

* ``ba_messages_total{channel,outcome}``, ``ba_message_seconds{channel}`` — Rasa process, every
  message of every channel (outcome ``ok``, ``store_unavailable``, ``error``);
* ``ba_nlu_messages_total{result}`` — Rasa process, ``fallback`` (NLU fallback) or ``intent``;
  the fallback rate is ``fallback / (fallback + intent)``;
* ``ba_store_unavailable_total{store}`` — Rasa process, messages answered with the outage notice;
* ``ba_duplicate_messages_total`` — Rasa process, messages sent again with an id the
  conversation already holds: answered from the saved turn, not processed again;
* ``ba_discovery_outcomes_total{outcome}`` — action server: ``answer``, ``choice``, ``none``;
* ``ba_forms_total{procedure,outcome}`` — action server: ``completed`` (confirmed and stored in
  the outbox) and ``abandoned`` (cancelled by the citizen);
* ``ba_outbox_depth{state}`` — delivery worker: applications in the outbox per state;
* ``ba_delivery_attempts_total{result}`` — delivery worker and action server: ``delivered``,
  ``rejected``, ``retry`` (backend unavailable, tried again later);
* ``ba_matrix_messages_total{outcome}`` — Matrix connector: citizens' messages ``answered``,
  ``undecryptable``, ``rasa_unavailable``, ``rate_limited``; ``ba_matrix_invites_total{outcome}``:
  ``accepted``, ``rejected_per_user``, ``declined_busy``; ``ba_matrix_stage_seconds{stage}``:
  where a message's time goes (matrix_connector/timings.py names the stages);
* ``ba_insights_events_total{outcome}`` — insights consumer: Rasa events ``stored``,
  ``unreadable``, ``failed``; ``ba_insights_pending`` events read from RabbitMQ and not yet
  stored; ``ba_insights_ingest_seconds`` the time to store one event;
* ``ba_logins_total{protocol,outcome}`` — login service: ``success`` or the rejection reason code
  (``buergerassistent/identity.py``: a closed set, e.g. ``response_invalid``, ``level_too_low``).

Protection: /metrics answers only with ``Authorization: Bearer $BA_METRICS_TOKEN``
(compared in constant time); without the setting there is no /metrics (404).
"""

from __future__ import annotations

import hmac
from typing import Optional

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

KNOWN_CHANNELS = frozenset({"rest", "webchat", "socketio", "telegram", "threema", "matrix", "cmdline"})

MESSAGES = Counter("ba_messages_total", "Messages handled by Rasa", ["channel", "outcome"])
MESSAGE_SECONDS = Histogram(
    "ba_message_seconds",
    "Time from receiving a message to the end of the bot's turn",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0),
)
NLU_MESSAGES = Counter("ba_nlu_messages_total", "Messages parsed by the NLU", ["result"])
STORE_OUTAGES = Counter(
    "ba_store_unavailable_total", "Messages answered with the outage notice, per store that failed", ["store"]
)
DUPLICATE_MESSAGES = Counter(
    "ba_duplicate_messages_total", "Messages sent again with an id already answered (answered from the saved turn)"
)
DISCOVERY = Counter("ba_discovery_outcomes_total", "Outcomes of finding the procedure", ["outcome"])
FORMS = Counter("ba_forms_total", "Application forms completed and abandoned", ["procedure", "outcome"])
OUTBOX_DEPTH = Gauge("ba_outbox_depth", "Applications in the outbox", ["state"])
DELIVERY_ATTEMPTS = Counter("ba_delivery_attempts_total", "Delivery attempts to the portal backend", ["result"])
LOGINS = Counter("ba_logins_total", "Login outcomes (success or the rejection reason code)", ["protocol", "outcome"])

MATRIX_MESSAGES = Counter("ba_matrix_messages_total", "Citizens' Matrix messages by outcome", ["outcome"])
MATRIX_INVITES = Counter("ba_matrix_invites_total", "Matrix invites by outcome", ["outcome"])
MATRIX_STAGE_SECONDS = Histogram(
    "ba_matrix_stage_seconds",
    "Matrix connector: time of each stage of a message (matrix_connector/timings.py)",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
INSIGHTS_EVENTS = Counter("ba_insights_events_total", "Rasa events read by the insights consumer", ["outcome"])
INSIGHTS_PENDING = Gauge("ba_insights_pending", "Events read from the queue and not yet stored")
INSIGHTS_INGEST_SECONDS = Histogram(
    "ba_insights_ingest_seconds",
    "Time to store one event's facts",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def channel_label(name: Optional[str]) -> str:
    return name if name in KNOWN_CHANNELS else "other"


def authorized(header: Optional[str], token: Optional[str]) -> bool:
    """``header`` is ``Bearer <token>``; false when no token is configured."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


def exposition() -> tuple[bytes, str]:
    """The body and content type of a /metrics answer."""
    return generate_latest(), CONTENT_TYPE_LATEST


def aiohttp_route(app) -> None:  # noqa: ANN001 - aiohttp.web.Application
    """Adds ``GET /metrics`` to an aiohttp service (when ``BA_METRICS_TOKEN`` is set)."""
    from aiohttp import web

    from buergerassistent.settings import get_settings

    token = get_settings().ba_metrics_token
    if not token:
        return

    async def metrics_view(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization"), token):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    metrics_view.public = True  # type: ignore[attr-defined] - checks its own token (portal backend's auth)
    app.router.add_get("/metrics", metrics_view)
