"""Where the connector's time goes, per citizen message (no texts, no ids: durations only).

Stages of one message, in milliseconds (the last ``KEEP`` of each):

* ``homeserver_in``: the event's ``origin_server_ts`` until the connector's sync handed it over
  (the homeserver's persistence and sync delivery; same clock on one machine only);
* ``decrypt``: Megolm decryption, including a wait for a room key still on its way;
* ``key_wait``: part of ``decrypt`` when the message came before its room key (a to-device
  message in a later sync); counted only when it happens;
* ``queue``: waiting for the room's lock (an earlier message of the same room still answered);
* ``rasa``: the HTTP round trip to Rasa's Matrix channel;
* ``adapter``: from the handler's start until the first answer event is handed to the homeserver,
  without ``rasa`` — what the connector itself adds (decryption, option matching, rendering,
  Megolm encryption, waiting for its own event loop);
* ``homeserver_send``: the homeserver's send request for that first answer event (until it has
  accepted it);
* ``send_all``: rendering and sending every answer event (and files);
* ``share_session``: creating and sharing the room's outbound Megolm session before an answer
  could be encrypted (key query, one-time-key claim, to-device request); counted only when it
  happens, part of ``adapter`` when it is the first answer event (with the session shared ahead,
  only the rest of that share is waited for here);
* ``share_ahead``: sharing a new session as soon as mautrix dropped the old one, or an encrypted
  message arrives in a room without one (not part of any other stage);
* ``encrypt``: Megolm encryption of an answer event (store queries, waiting for mautrix's
  per-room lock, and ``share_session`` when that happened);
* ``loop_lag``: how late a 100 ms timer of the connector fires (not per message: what every
  conversation waits whenever something blocks the event loop).

``GET /internal/stats`` (the channel token) returns count, p50, p95 and mean of each; the
benchmark reads it (``benchmarks/bench_matrix.py``). Prometheus gets the same stages as the
histogram ``ba_matrix_stage_seconds{stage}`` at ``GET /metrics`` (``BA_METRICS_TOKEN``).
"""

from __future__ import annotations

from collections import defaultdict, deque

from buergerassistent import metrics

KEEP = 5000


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class StageTimes:
    def __init__(self) -> None:
        self._values: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=KEEP))

    def add(self, stage: str, seconds: float) -> None:
        self._values[stage].append(max(0.0, seconds) * 1000)
        # /metrics too (buergerassistent/metrics.py): stages are the fixed names above.
        metrics.MATRIX_STAGE_SECONDS.labels(stage=stage).observe(max(0.0, seconds))

    def reset(self) -> None:
        self._values.clear()

    def summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for stage, values in self._values.items():
            ordered = sorted(values)
            if not ordered:
                continue
            out[stage] = {
                "count": len(ordered),
                "p50_ms": round(_percentile(ordered, 0.5), 1),
                "p95_ms": round(_percentile(ordered, 0.95), 1),
                "mean_ms": round(sum(ordered) / len(ordered), 1),
            }
        return out
