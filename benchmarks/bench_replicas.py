"""Replicas that survive failures (issue 18): two Rasa processes and two action servers behind
HAProxy, one Rasa killed in the middle of the run and started again, then a rolling update
to a new model.

``make bench-replicas`` (``python -m benchmarks.bench_replicas [--conversations 200] [--webchat-share 0.25]``)

What runs, all real processes on this machine (nothing shared with other tests):
  * a private PostgreSQL (tracker store of both Rasa processes, submission outbox) and a private
    Redis (lock store, the web chat's socket.io fan-out, rate limits): tests/support/services.py;
  * HAProxy (Debian package ``haproxy``) in front of the two Rasa processes (round robin; a cookie
    keeps a web chat socket on its replica, REST messages go to either) and of the two action
    servers (round robin); health checks on the real health endpoints; an admin socket;
  * the portal backend, the delivery worker and the login service, as ``make run`` starts them.

What the citizens do: N conversations at once (REST and web chat sockets, ``--webchat-share``)
fill in the Meldebescheinigung and confirm it. A message that fails (HTTP 502/503, a dropped
socket, no answer in time) is sent again after a second, as a citizen would (REST: with the same
``message_id``).

Started as Kubernetes starts pods: every process at once (``start_in_parallel``); each store's
schema is migrated under the schema lock, so nothing races.

When ``--kill-after`` of all messages are answered, one Rasa process is killed (SIGKILL) and
started again at once. After all conversations ended, a rolling update to a NEW model (trained
from the project's data plus one NLU example, ``updated_model``; cached): each Rasa replica in
turn is drained in HAProxy, stopped, started with the new model and enabled again (after the
first one, both versions serve side by side for ``--side-by-side`` seconds), while citizens keep
starting conversations until the last replica is back. They must see no error at
all; conversations whose turns were answered by both versions (read from the ``model_id`` Rasa
writes into each event) are counted and must have finished their form.

Checks, from the databases (never from what the clients believe):
  * every conversation's events in the tracker store: each citizen message once and in the order
    sent, no turn interleaved with another (each message's turn ends with ``action_listen``
    before the next). A message sent again after a failure must be there once too: REST and
    web chat messages carry an id (``message_id``, the same on a resend), so a turn already
    saved is answered from the tracker; a message stored twice is an anomaly named by its cause
    (``stored_order``);
  * every form finished: the conversation reached the confirmation and the outbox holds its
    application once, delivered; the portal backend holds each application exactly once.
Prints the numbers used, conversations, events checked, anomalies (each listed), messages sent
again, and p95 latency before / during / after the kill (and during the rolling update).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))  # tests/support: the private servers and the form dialogue

import socketio  # noqa: E402
from support import services  # noqa: E402
from support.forms import MELDEBESCHEINIGUNG_DIALOGUE  # noqa: E402

from bot.local_stack import local_settings  # noqa: E402
from bot.stack import Service, Stack, free_port  # noqa: E402

CONFIRM = ("Ja, absenden", "Aktenzeichen")
DIALOGUE = [*MELDEBESCHEINIGUNG_DIALOGUE, CONFIRM]
OUTAGE_NOTICE = "technische Störung"
# Rolling update: a drained replica must have had no session for this long before it stops, and
# it gets this long from SIGTERM to SIGKILL (k8s/base/rasa.yaml: terminationGracePeriodSeconds).
DRAIN_QUIET_S = 1.0
STOP_GRACE_S = 40.0


def p95(values: list[float]) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- per-process figures

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> Optional[list[str]]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and all its children, living and finished (PostgreSQL's backends)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    total = sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child and int(child[1]) == pid:
                total += cpu_seconds(int(entry.name))
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MB."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields and (int(entry.name) == pid or int(fields[1]) == pid):
            try:
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                continue
    return total


def postmaster_pid(pg: services.PrivatePostgres) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


# --------------------------------------------------------------------------- the new model

# What changes between the two model versions of the rolling update: one more NLU example, as an
# editor's release would add one. The dialogue (domain, forms, rules) is the same, as it must be
# for a rolling update: both versions serve the same conversations at the same time.
EXTRA_EXAMPLE = """version: "3.1"
nlu:
- intent: request_procedure
  examples: |
    - Ich bräuchte bitte eine Meldebescheinigung für meinen Arbeitgeber
"""


def updated_model(base: Path) -> Path:
    """A second model: trained from the project's data plus ``EXTRA_EXAMPLE`` (cached next to the
    project's models, by the base model's content hash and the extra example)."""
    import hashlib

    from bot import training

    digest = hashlib.sha256(EXTRA_EXAMPLE.encode()).hexdigest()[:8]
    target = training.cache_dir() / f"{base.name[: -len('.tar.gz')]}-plus1-{digest}.tar.gz"
    if target.exists():
        return target
    with training.training_lock(), tempfile.TemporaryDirectory(prefix="ba-model-update-") as tmp:
        if target.exists():
            return target
        nlu = Path(tmp) / "nlu"
        shutil.copytree(training.NLU_DATA, nlu)
        (nlu / "release_update.yml").write_text(EXTRA_EXAMPLE, encoding="utf-8")
        name = target.name[: -len(".tar.gz")]
        command = training.train_command(Path(tmp), name)
        command[command.index(str(training.NLU_DATA))] = str(nlu)
        print(f"Trainiere das neue Modell (ein NLU-Beispiel mehr) → {target}", flush=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        partial = target.with_suffix(".partial")
        shutil.move(str(Path(tmp) / target.name), partial)
        os.replace(partial, target)
    return target


def model_id(archive: Path) -> str:
    """The id Rasa writes into every event's metadata (``model_id``) for this model."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage.metadata_from_archive(archive).model_id


def versions_seen(tracker_url: str, conversations: list[Conversation]) -> dict[str, list[str]]:
    """Per conversation, the model ids of its citizen messages in the order they were answered
    (from the tracker store: which model version took each turn)."""
    import sqlalchemy as sa

    seen: dict[str, list[str]] = {}
    engine = sa.create_engine(tracker_url, future=True)
    with engine.connect() as conn:
        for conv in conversations:
            rows = conn.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                {"s": conv.conversation_id},
            ).all()
            seen[conv.conversation_id] = [(json.loads(r[0]).get("metadata") or {}).get("model_id", "") for r in rows]
    engine.dispose()
    return seen


# --------------------------------------------------------------------------- load balancer


HAPROXY_CFG = """
global
    maxconn 4096
    stats socket {admin} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 180s
    timeout server 180s
    timeout http-request 30s
    # A Rasa process answers its health check only between two messages: a check timeout of the
    # check interval (the default, 500 ms) took both replicas DOWN under load (503 for everyone).
    timeout check 5s
    # Queue in HAProxy rather than in the replicas' listen backlog.
    timeout queue 60s
    retries 3
    option redispatch

frontend chat
    bind 127.0.0.1:{chat_port}
    default_backend rasa

backend rasa
    balance roundrobin
    option httpchk GET /
    cookie BA_REPLICA insert indirect nocache
{rasa_servers}

frontend actions
    bind 127.0.0.1:{action_port}
    default_backend actions

backend actions
    balance roundrobin
    option httpchk GET /health
{action_servers}
"""


class HAProxy:
    def __init__(self, root: Path, rasa_ports: list[int], action_ports: list[int], action_port: int) -> None:
        self.root = root
        # The action port is chosen first: Rasa's endpoints name it.
        self.chat_port, self.action_port = free_port(), action_port
        self.admin = root / "haproxy.sock"
        servers = "\n".join(
            f"    server r{i} 127.0.0.1:{p} check inter 1s fall 3 rise 2 maxconn 64 cookie r{i}"
            for i, p in enumerate(rasa_ports, 1)
        )
        actions = "\n".join(
            f"    server a{i} 127.0.0.1:{p} check inter 1s fall 3 rise 2 maxconn 64"
            for i, p in enumerate(action_ports, 1)
        )
        self.config = root / "haproxy.cfg"
        self.config.write_text(
            HAPROXY_CFG.format(
                admin=self.admin,
                chat_port=self.chat_port,
                action_port=self.action_port,
                rasa_servers=servers,
                action_servers=actions,
            )
        )
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        log = (self.root / "haproxy.log").open("ab")
        self.process = subprocess.Popen([binary, "-db", "-f", str(self.config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.chat_port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("HAProxy did not start")

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.admin))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def current_sessions(self, backend: str, server: str) -> int:
        for row in self.command("show stat").splitlines():
            cols = row.split(",")
            if len(cols) > 4 and cols[0] == backend and cols[1] == server:
                return int(cols[4] or 0)  # scur
        return 0

    def wait_drained(self, backend: str, server: str, quiet: float, timeout: float) -> float:
        """Until ``server`` has had no session for ``quiet`` s (at most ``timeout`` s); seconds
        waited. One sample of zero is not enough: a web chat long poll that has just returned is
        followed by the next one of the same socket a moment later."""
        t0 = time.monotonic()
        idle_since: Optional[float] = None
        while time.monotonic() - t0 < timeout:
            if self.current_sessions(backend, server):
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                break
            time.sleep(0.1)
        return time.monotonic() - t0

    def wait_up(self, timeout: float = 60) -> None:
        """Until HAProxy's own checks have every server UP (``rise 2``: two checks after the
        process is healthy); before that it answers 503 although the replicas are ready."""
        deadline = time.monotonic() + timeout
        while True:
            states = {
                (cols[0], cols[1]): cols[17]
                for cols in (row.split(",") for row in self.command("show stat").splitlines())
                if len(cols) > 17 and cols[0] in ("rasa", "actions") and cols[1] not in ("FRONTEND", "BACKEND")
            }
            if states and all(state == "UP" for state in states.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy: servers not UP: {states}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


# --------------------------------------------------------------------------- clients


@dataclass
class Sample:
    at: float
    seconds: float
    phase: str


@dataclass
class Conversation:
    kind: str  # rest | webchat
    sender: str = ""
    conversation_id: str = ""
    sent: list[str] = field(default_factory=list)  # every message as sent (again after a failure)
    resent: set[int] = field(default_factory=set)  # indexes into DIALOGUE sent more than once
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)  # e.g. HTTPError 502, TimeoutError
    notices: int = 0
    from_history: int = 0  # web chat answers seen in the history after a reconnect
    client_resends: int = 0  # web chat messages the client sent again after a reconnect (no ack)
    finished: bool = False
    problem: str = ""


class Run:
    def __init__(self, chat_url: str, rest_token: str, phase_of) -> None:
        self.chat_url, self.rest_token, self.phase_of = chat_url, rest_token, phase_of
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.answered = 0
        self.errors_by_phase: dict[str, dict[str, int]] = {}  # phase -> error kind -> count

    def error(self, conv: Conversation, kind: str) -> None:
        conv.errors += 1
        conv.error_kinds[kind] = conv.error_kinds.get(kind, 0) + 1
        with self.lock:
            kinds = self.errors_by_phase.setdefault(self.phase_of(), {})
            kinds[kind] = kinds.get(kind, 0) + 1

    def record(self, started: float) -> None:
        with self.lock:
            self.samples.append(Sample(started, time.monotonic() - started, self.phase_of()))
            self.answered += 1


def rest_say(run: Run, conv: Conversation, text: str, message_id: str) -> str:
    # The same id when the message is sent again: a turn already saved is answered from the
    # tracker, not processed twice (rasa_runtime/idempotency.py).
    body = json.dumps({"sender": conv.sender, "message": text, "message_id": message_id}).encode()
    request = urllib.request.Request(
        f"{run.chat_url}/webhooks/rest/webhook",
        data=body,
        headers={"Authorization": f"Bearer {run.rest_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as resp:
        return "\n".join(m.get("text", "") for m in json.loads(resp.read()))


class SocketCitizen:
    """The widget's protocol (rasa_runtime/channels/webchat, webchat/widget/src/widget.js): a
    signed session, resumed after a reconnect; each message with an id and an ack; a message
    without an ack when the socket drops is sent again with the same id once the new socket has
    its history, unless that history shows its turn (then its answer is read from there). An
    answer is complete when ``bot_typing`` goes false; a repeated answer (the server's saved turn
    for a message sent again) counts only when the first one never came."""

    def __init__(self, chat_url: str) -> None:
        self.cond = threading.Condition()
        self.messages: list[str] = []
        self.idle = 0
        self.token: Optional[str] = None
        self.conversation_id = ""
        self.ready = False  # connected and the session confirmed (again after a reconnect)
        # The message waiting for its ack: (text, id); after a reconnect the server's history
        # shows whether its turn was saved meanwhile (the widget renders that history).
        self.pending: Optional[tuple[str, str]] = None
        self.acked = False
        self.answered_ids: set[str] = set()
        self.from_history: Optional[list[str]] = None
        self.recovered = 0  # answers the citizen saw only in the history after a reconnect
        self.resent = 0  # messages sent again by the client after a reconnect (no ack)
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2)
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("bot_uttered", self._bot)
        self.sio.on("bot_typing", self._typing)
        self.sio.on("history", self._history)
        self.sio.on("connect", self._connected)
        self.sio.on("disconnect", self._disconnected)
        self.sio.connect(chat_url, headers={"Origin": "http://127.0.0.1"}, transports=["polling"], wait_timeout=30)
        self._wait(lambda: bool(self.conversation_id), 60)

    def _connected(self) -> None:
        self.sio.emit("session_request", {"session_id": self.token} if self.token else {})

    def _disconnected(self, *_args) -> None:
        with self.cond:
            self.ready = False

    def _confirm(self, data) -> None:
        with self.cond:
            self.token = data.get("session_id")
            self.conversation_id = data.get("conversation_id", "")
            self.ready = True
            self.cond.notify_all()

    def _bot(self, message) -> None:
        with self.cond:
            reply_to = message.get("reply_to")
            if reply_to and message.get("repeated"):
                if reply_to in self.answered_ids:
                    return  # shown already
            elif reply_to:
                self.answered_ids.add(reply_to)
            self.messages.append(message.get("text") or "")
            self.cond.notify_all()

    def _typing(self, data) -> None:
        if not (data or {}).get("typing"):
            with self.cond:
                self.idle += 1
                self.cond.notify_all()

    def _ack(self, message_id: str):
        def acked(*_args) -> None:
            with self.cond:
                if self.pending is not None and self.pending[1] == message_id:
                    self.acked = True
                    self.cond.notify_all()

        return acked

    def _emit_pending(self) -> None:
        with self.cond:
            if self.pending is None:
                return
            text, message_id = self.pending
        try:
            self.sio.emit(
                "user_uttered",
                {"message": text, "message_id": message_id, "session_id": self.token},
                callback=self._ack(message_id),
            )
        except socketio.exceptions.SocketIOError:
            pass  # dropped between the check and the emit: sent again after the reconnect

    def _history(self, data) -> None:
        items = (data or {}).get("messages") or []
        with self.cond:
            if self.pending is None or self.acked:
                return
            message_id = self.pending[1]
            at = next((i for i, m in enumerate(items) if m.get("sender") == "user" and m.get("id") == message_id), None)
            if at is not None:
                answers = []
                for m in items[at + 1 :]:
                    if m.get("sender") == "user":
                        break
                    answers.append(m.get("text") or "")
                # Its turn was saved before the socket went away: the answer is in the history.
                self.answered_ids.add(message_id)
                self.from_history = answers
                self.cond.notify_all()
                return
            self.resent += 1
        self._emit_pending()

    def _wait(self, ready, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(ready, timeout)

    def say(self, text: str, message_id: str, timeout: float = 120) -> str:
        # As the widget: while the socket reconnects, the message waits (then counts as failed).
        if not self._wait(lambda: self.ready, 30):
            raise TimeoutError("not connected")
        with self.cond:
            seen, idle = len(self.messages), self.idle
            self.pending, self.acked, self.from_history = (text, message_id), False, None
        try:
            self._emit_pending()
            if not self._wait(lambda: (self.acked and self.idle > idle) or self.from_history is not None, timeout):
                raise TimeoutError("no answer")
            with self.cond:
                if self.from_history is None:
                    return "\n".join(self.messages[seen:])
                # The socket's replica went away after the turn was saved; the new one's
                # history shows the answer.
                self.recovered += 1
                return "\n".join(self.from_history)
        finally:
            with self.cond:
                self.pending = None

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001
            pass


def converse(run: Run, conv: Conversation, think: tuple[float, float]) -> None:
    citizen = None
    try:
        if conv.kind == "webchat":
            for attempt in range(5):  # the chat did not open: the citizen reloads the page
                try:
                    citizen = SocketCitizen(run.chat_url)
                    break
                except socketio.exceptions.ConnectionError as exc:
                    run.error(conv, "socket connect")
                    if attempt == 4:
                        raise exc
                    time.sleep(2.0)
            conv.conversation_id = citizen.conversation_id
        else:
            conv.conversation_id = f"rest-{conv.sender}"
        for index, (text, expected) in enumerate(DIALOGUE):
            for attempt in range(8):
                time.sleep(random.uniform(*think))
                started = time.monotonic()
                conv.sent.append(text)
                if attempt:
                    conv.resent.add(index)
                try:
                    # The same id when the message is sent again (REST and web chat): a turn
                    # already saved is answered from the tracker, not processed twice.
                    message_id = f"step-{index}"
                    reply = citizen.say(text, message_id) if citizen else rest_say(run, conv, text, message_id)
                except (urllib.error.URLError, OSError, TimeoutError) as exc:
                    # A citizen sends it again a moment later.
                    kind = type(exc).__name__ + (f" {exc.code}" if isinstance(exc, urllib.error.HTTPError) else "")
                    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
                        kind += f" ({type(exc.reason).__name__})"
                    run.error(conv, kind)
                    time.sleep(1.0)
                    continue
                run.record(started)
                if citizen:
                    if citizen.resent > conv.client_resends:  # sent again after a reconnect
                        conv.resent.add(index)
                    conv.from_history, conv.client_resends = citizen.recovered, citizen.resent
                if OUTAGE_NOTICE in reply:
                    conv.notices += 1
                    time.sleep(1.0)
                    continue
                if expected in reply:
                    break
                conv.problem = f"step {index} ({text!r}): unexpected answer {reply[:160]!r}"
                return
            else:
                conv.problem = f"step {index} ({text!r}): no answer after 8 tries"
                return
        conv.finished = True
    except Exception as exc:  # noqa: BLE001 - reported as an anomaly
        conv.problem = f"{type(exc).__name__}: {exc}"
    finally:
        if citizen:
            citizen.close()


# --------------------------------------------------------------------------- checks


def stored_order(conv: Conversation, users: list[str], expected: list[str]) -> list[str]:
    """The citizen's messages as stored against the ones sent: each once and in order.

    A message stored twice is an anomaly, named by its cause: the client sent it again (its
    reply was lost or late) and the second copy was processed as a new message. REST and web
    chat messages carry an id (``message_id``), so even that must not happen. A copy processed
    after later messages (the first copy queued somewhere and run late) answered the wrong
    question.
    """
    problems: list[str] = []
    position, seen = 0, []
    for text in users:
        if position < len(expected) and text == expected[position]:
            seen.append(position)
            position += 1
            continue
        earlier = [i for i in seen if expected[i] == text]
        if earlier and earlier[-1] in conv.resent:
            where = "right after the first" if seen[-1] == earlier[-1] else "after later messages"
            problems.append(
                f"{conv.conversation_id}: {text!r} sent again after a failure and processed twice, {where}, "
                "despite its message id"
            )
        else:
            problems.append(f"{conv.conversation_id}: message {text!r} out of order or unexpected")
            break
    return problems


def stored_position(users: list[str], expected: list[str]) -> int:
    """How many of ``expected`` were stored in order (duplicates skipped)."""
    position = 0
    for text in users:
        if position < len(expected) and text == expected[position]:
            position += 1
    return position


def check_events(tracker_url: str, conversations: list[Conversation]) -> tuple[int, list[str]]:
    import sqlalchemy as sa

    anomalies: list[str] = []
    checked = 0
    engine = sa.create_engine(tracker_url, future=True)
    with engine.connect() as conn:
        for conv in conversations:
            rows = conn.execute(
                sa.text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": conv.conversation_id},
            ).all()
            checked += len(rows)
            # The delivery worker's announcement (trigger_intent EXTERNAL_submission_update) is
            # a turn of the assistant's own, not a citizen's message.
            users = [
                text
                for text in (json.loads(r[2]).get("text") for r in rows if r[0] == "user")
                if not (text or "").startswith("EXTERNAL: ")
            ]
            expected = [t for t, _ in DIALOGUE]
            anomalies += stored_order(conv, users, expected)
            position = stored_position(users, expected)
            if conv.finished and position != len(expected):
                anomalies.append(f"{conv.conversation_id}: {len(expected) - position} messages missing")
            # Turns never interleave: after a user message, action_listen before the next one.
            open_turn = False
            for kind, action, _ in rows:
                if kind == "user":
                    if open_turn:
                        anomalies.append(f"{conv.conversation_id}: a turn started before the previous ended")
                        break
                    open_turn = True
                elif kind == "action" and action == "action_listen":
                    open_turn = False
            timestamps = [json.loads(r[2]).get("timestamp") or 0 for r in rows]
            if timestamps != sorted(timestamps):
                anomalies.append(f"{conv.conversation_id}: events out of time order")
    engine.dispose()
    return checked, anomalies


def check_applications(outbox_url: str, portal_url: str, conversations: list[Conversation]) -> tuple[int, list[str]]:
    import sqlalchemy as sa

    anomalies: list[str] = []
    outbox = sa.create_engine(outbox_url, future=True)
    portal = sa.create_engine(portal_url, future=True)
    with outbox.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, conversation_id, state FROM submission_outbox")).all()
    with portal.connect() as conn:
        landed = [r[0] for r in conn.execute(sa.text("SELECT idempotency_key FROM applications")).all()]
    outbox.dispose()
    portal.dispose()
    by_conversation: dict[str, list] = {}
    for application_id, conversation_id, state in rows:
        by_conversation.setdefault(conversation_id, []).append((application_id, state))
    for conv in conversations:
        entries = by_conversation.get(conv.conversation_id, [])
        if conv.finished and len(entries) != 1:
            anomalies.append(f"{conv.conversation_id}: {len(entries)} applications in the outbox (want 1)")
        for application_id, state in entries:
            if state != "delivered":
                anomalies.append(f"{conv.conversation_id}: application {state}, not delivered")
            if landed.count(application_id) != 1:
                anomalies.append(f"{conv.conversation_id}: landed {landed.count(application_id)} times")
    return len(landed), anomalies


# --------------------------------------------------------------------------- the run


def replica_services(stack: Stack, root: Path) -> tuple[list[Service], list[Service], list[Service]]:
    """The stack's services plus a second Rasa and action server on their own ports."""
    stack.build()
    singles = [s for s in stack.services if s.name not in ("rasa", "action-server")]
    rasa1, action1 = stack.service("rasa"), stack.service("action-server")
    rasa_port2, action_port2 = free_port(), free_port()

    def clone(service: Service, name: str, old: int, new: int) -> Service:
        command = [str(new) if part == str(old) else part for part in service.command]
        return Service(
            name,
            command,
            service.health_url.replace(f":{old}/", f":{new}/"),
            dict(service.env),
            root / "logs" / f"{name}.log",
        )

    rasa1.name, action1.name = "rasa-1", "action-server-1"
    rasa2 = clone(rasa1, "rasa-2", stack.settings.rasa_port, rasa_port2)
    action2 = clone(action1, "action-server-2", stack.settings.action_port, action_port2)
    return singles, [rasa1, rasa2], [action1, action2]


def port_of(service: Service) -> int:
    return int(service.command[service.command.index("--port") + 1])


def duplicates_answered(rasa: Service, token: str) -> float:
    """``ba_duplicate_messages_total`` of one Rasa replica (rasa_runtime/idempotency.py)."""
    url = rasa.health_url.rstrip("/") + "/webhooks/metrics/"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        text = resp.read().decode()
    for line in text.splitlines():
        if line.startswith("ba_duplicate_messages_total "):
            return float(line.split()[1])
    return 0.0


def start_in_parallel(services_: list[Service], timeout: float = 600) -> dict[str, float]:
    """Start every service at once and wait for all to be healthy; seconds until each was."""
    t0 = time.monotonic()
    for service in services_:
        service.start()

    def ready(service: Service) -> float:
        service.wait_healthy(timeout)
        return time.monotonic() - t0

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(services_)) as pool:
        seconds = list(pool.map(ready, services_))
    return {service.name: s for service, s in zip(services_, seconds, strict=True)}


def run_round(run: Run, conversations: list[Conversation], think, during=None) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(conversations)) as pool:
        futures = [pool.submit(converse, run, c, think) for c in conversations]
        if during is not None:
            during()
        concurrent.futures.wait(futures)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40, help="at once (issue 18: 200; default 40 for 2 cores)")
    parser.add_argument("--webchat-share", type=float, default=0.25, help="share of web chat sockets (rest: REST)")
    parser.add_argument("--kill-after", type=float, default=0.25, help="share of messages answered before the kill")
    parser.add_argument("--rolling", type=int, default=None, help="citizens talking at once during the rolling update")
    parser.add_argument(
        "--side-by-side", type=float, default=15, help="seconds both model versions serve during the rolling update"
    )
    parser.add_argument("--think", type=float, nargs=2, default=(0.3, 1.5), help="seconds between messages")
    parser.add_argument("--keep", action="store_true", help="keep the folder with logs and databases")
    args = parser.parse_args(argv)
    if services.missing():
        print(services.missing(), file=sys.stderr)
        return 2
    if not shutil.which("haproxy") and not Path("/usr/sbin/haproxy").exists():
        print("HAProxy fehlt (Debian-Paket haproxy, siehe .ci/apt-packages.txt)", file=sys.stderr)
        return 2

    from bot.training import ensure_model

    model = ensure_model(quiet=True)
    new_model = updated_model(model)  # trained before the run, not during it
    old_id, new_id = model_id(model), model_id(new_model)
    n_web = int(round(args.conversations * args.webchat_share))
    n_rest = args.conversations - n_web
    rolling_n = args.rolling if args.rolling is not None else max(4, args.conversations // 4)
    print(
        f"Replikate: 2 Rasa + 2 Aktionsserver hinter HAProxy; {args.conversations} Gespräche gleichzeitig "
        f"({n_rest} REST, {n_web} Web-Chat-Sockets), Kill nach {args.kill_after:.0%} der Nachrichten, "
        f"danach Rolling Update auf ein neues Modell mit {rolling_n} Gesprächen gleichzeitig; Denkpause {args.think[0]}–{args.think[1]} s; "
        f"{os.cpu_count()} CPU-Kerne",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="ba-replicas-"))
    pg, redis = services.PrivatePostgres(), services.PrivateRedis()
    procs: list[Service] = []
    proxy = None
    try:
        pg.init()
        redis.start()
        var_dir = root / "var"
        var_dir.mkdir()
        portal_db = var_dir / "portal.db"
        action_lb_port = free_port()
        settings = local_settings(
            var_dir,
            tracker_store_url=pg.url,
            lock_store_url=redis.url,
            action_server_url=f"http://127.0.0.1:{action_lb_port}/webhook",
            portal_database_url=f"sqlite:///{portal_db}",
            # Each replica's /webhooks/metrics/: how many resends were answered from a saved turn.
            metrics_token=secrets.token_urlsafe(24),
        )
        stack = Stack(settings, model)
        stack.extra_env = {
            "BA_LOGIN_REQUIRED": "0",
            "OUTBOX_DATABASE_URL": pg.url,
            "WEBCHAT_REDIS_URL": redis.url,
            # 200 citizens behind one proxy address must not share one rate limit.
            "WEBCHAT_RATE_LIMIT": "1000/60",
        }
        singles, rasas, actions = replica_services(stack, root)
        proxy = HAProxy(root, [port_of(r) for r in rasas], [port_of(a) for a in actions], action_lb_port)
        chat_url = f"http://127.0.0.1:{proxy.chat_port}"
        for service in singles:
            service.env["RASA_URL"] = chat_url  # the worker reaches Rasa through the proxy
        procs = [*singles, *actions, *rasas]
        proxy.start()
        started = time.monotonic()
        # Everything at once, as Kubernetes starts a Deployment's pods: each store's schema is
        # migrated under the schema lock (buergerassistent/storage.py), so replicas do not race.
        ready = start_in_parallel(procs)
        proxy.wait_up()
        print(
            "Bereit nach (parallel gestartet): " + ", ".join(f"{name} {s:.0f} s" for name, s in ready.items()),
            flush=True,
        )
        print(f"Gestartet in {time.monotonic() - started:.0f} s", flush=True)

        phase = {"name": "before"}
        run = Run(chat_url, settings.rest_channel_token, lambda: phase["name"])
        total = args.conversations * len(DIALOGUE)
        conversations = [
            Conversation("webchat" if i < n_web else "rest", sender=f"replica-{i}-{time.time_ns()}")
            for i in range(args.conversations)
        ]
        victim = rasas[0]
        kill_info: dict[str, float] = {}
        components = {
            "rasa (2)": [r.process.pid for r in rasas],
            "action server (2)": [a.process.pid for a in actions],
            "PostgreSQL": [postmaster_pid(pg)],
            "Redis": [redis.process.pid],
            "HAProxy": [proxy.process.pid],
            "portal backend": [stack.service("portal-backend").process.pid],
            "delivery worker": [stack.service("submission-worker").process.pid],
        }

        def snapshot() -> dict[str, float]:
            return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in components.items()}

        cpu_start, t_cpu, answered_start = snapshot(), time.monotonic(), run.answered
        usage: dict[str, tuple[float, float]] = {}

        def kill_in_the_middle() -> None:
            while run.answered < total * args.kill_after:
                time.sleep(0.1)
            cpu_end, seconds = snapshot(), time.monotonic() - t_cpu
            messages = max(1, run.answered - answered_start)
            kill_info["window_s"], kill_info["window_messages"] = seconds, messages
            for name, pids in components.items():
                used = cpu_end[name] - cpu_start[name]
                usage[name] = (used / seconds, 1000 * used / messages, sum(rss_mb(pid) for pid in pids))
            phase["name"] = "during"
            kill_info["at_message"] = run.answered
            os.killpg(victim.process.pid, signal.SIGKILL)
            victim.process.wait()
            t0 = time.monotonic()
            victim.start()
            victim.wait_healthy(600)
            kill_info["restart_s"] = time.monotonic() - t0
            phase["name"] = "after"

        t_run = time.monotonic()
        run_round(run, conversations, tuple(args.think), during=kill_in_the_middle)
        run_seconds = time.monotonic() - t_run
        first_round = run.answered
        # Before the rolling update restarts them (counters live in the process; the killed
        # replica's from before the kill are gone, its resends went to the other one or after).
        replayed = sum(duplicates_answered(r, settings.metrics_token) for r in rasas)

        # Rolling update to the new model: each replica drained, stopped, started with the new
        # model, enabled again. Citizens keep starting conversations until the last replica is
        # back, so forms begun on the old version are continued on the new one.
        phase["name"] = "rolling"
        rolling: list[Conversation] = []
        rolling_lock = threading.Lock()
        rolled = threading.Event()
        rolling_info: dict[str, float] = {}
        shutdown_lines: dict[str, str] = {}

        def keep_talking(worker: int) -> None:
            number = 0
            while not rolled.is_set():
                kind = "rest" if worker % 2 else "webchat"
                conv = Conversation(kind, sender=f"rolling-{worker}-{number}-{time.time_ns()}")
                with rolling_lock:
                    rolling.append(conv)
                converse(run, conv, tuple(args.think))
                number += 1

        def roll() -> None:
            t0 = time.monotonic()
            time.sleep(5)  # the first forms are under way on the old model
            for i, replica in enumerate(rasas, 1):
                # Drained: no new conversations, but a web chat socket bound to this replica (its
                # cookie) keeps coming here until it has gone.
                proxy.command(f"set server rasa/r{i} state drain")
                drained = proxy.wait_drained("rasa", f"r{i}", quiet=DRAIN_QUIET_S, timeout=60)
                proxy.command(f"set server rasa/r{i} state maint")
                # SIGTERM, then the turns still running are finished (rasa_runtime/shutdown.py);
                # SIGKILL only after STOP_GRACE_S, as Kubernetes' terminationGracePeriodSeconds.
                t_stop = time.monotonic()
                replica.stop(timeout=STOP_GRACE_S)
                rolling_info[f"r{i}_drain"] = drained
                rolling_info[f"r{i}_stop_s"] = time.monotonic() - t_stop
                rolling_info[f"r{i}_killed"] = float(replica.process.returncode == -signal.SIGKILL)
                # What the replica did with the turns it held (rasa_runtime/shutdown.py logs it).
                said = [line for line in replica.log_tail(400).splitlines() if "Herunterfahren:" in line]
                shutdown_lines[f"r{i}"] = said[-1].split("Herunterfahren:", 1)[1].strip() if said else "-"
                replica.command = [str(new_model) if part == str(model) else part for part in replica.command]
                replica.start()
                replica.wait_healthy(600)
                proxy.command(f"set server rasa/r{i} state ready")
                # Old and new version serve side by side for a while, as during a Kubernetes roll
                # (REST turns alternate between them); then the next replica goes.
                time.sleep(args.side_by_side if i < len(rasas) else 2)
            rolling_info["seconds"] = time.monotonic() - t0
            rolled.set()

        with concurrent.futures.ThreadPoolExecutor(max_workers=rolling_n) as pool:
            workers = [pool.submit(keep_talking, w) for w in range(rolling_n)]
            try:
                roll()
            finally:
                rolled.set()
            concurrent.futures.wait(workers)

        everyone = conversations + rolling
        events_checked, anomalies = check_events(pg.url, everyone)
        time.sleep(3)  # the last deliveries
        landed, app_anomalies = check_applications(pg.url, f"sqlite:///{portal_db}", everyone)
        anomalies += app_anomalies
        anomalies += [f"{c.conversation_id or c.sender}: {c.problem}" for c in everyone if c.problem]
        rolling_errors = sum(c.errors + c.notices for c in rolling)

        by_phase = {name: [s.seconds for s in run.samples if s.phase == name] for name in ("before", "during", "after")}
        print(
            f"Gespräche: {len(conversations)} + {len(rolling)} (Rolling Update), abgeschlossen: "
            f"{sum(c.finished for c in everyone)}"
        )
        print(
            f"Nachrichten beantwortet: {first_round} in {run_seconds:.0f} s (erste Runde), {run.answered} insgesamt; "
            f"erneut gesendet "
            f"nach Fehler: {sum(c.errors for c in conversations)}, nach Störungshinweis: "
            f"{sum(c.notices for c in conversations)}"
        )
        print(
            "Nachrichten (REST und Web-Chat) erneut gesendet, deren Zug schon gespeichert war (aus dem Verlauf "
            "beantwortet, "
            f"nicht doppelt bearbeitet; ba_duplicate_messages_total, erste Runde): {replayed:.0f}"
        )
        print(
            f"Web-Chat-Antworten erst im Verlauf nach einem Neuverbinden gesehen: {sum(c.from_history for c in everyone)}"
        )
        print(
            "Web-Chat-Nachrichten ohne Bestätigung, nach dem Neuverbinden mit derselben Kennung erneut gesendet: "
            f"{sum(c.client_resends for c in everyone)}"
        )
        kinds: dict[str, int] = {}
        for conv in everyone:
            for kind, count in conv.error_kinds.items():
                # REST or web chat: a timeout means something else on a socket than on HTTP.
                key = f"{kind} [{'REST' if conv.kind == 'rest' else 'Web-Chat'}]"
                kinds[key] = kinds.get(key, 0) + count
        if kinds:
            print("Fehlerarten: " + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
            for name in ("before", "during", "after", "rolling"):
                shown = ", ".join(f"{k}: {v}" for k, v in sorted(run.errors_by_phase.get(name, {}).items()))
                print(f"  Fehler {name:7s}: {shown or '-'}")
        print(
            f"Kill von rasa-1 nach Nachricht {kill_info.get('at_message', 0):.0f}; wieder bereit nach "
            f"{kill_info.get('restart_s', 0):.0f} s"
        )
        for name, values in by_phase.items():
            value = p95(values)
            shown = f"{value:.2f} s" if value is not None else "-"
            print(f"p95 {name:7s}: {shown} ({len(values)} Nachrichten)")
        value = p95([s.seconds for s in run.samples if s.phase == "rolling"])
        print(
            f"Rolling Update: {rolling_info.get('seconds', 0):.0f} s, Fehler/Störungshinweise in seinen "
            f"Gesprächen: {rolling_errors}, p95 {value:.2f} s"
            if value
            else "Rolling Update: keine Messwerte"
        )
        print(
            "Rolling Update je Replikat: "
            + "; ".join(
                f"r{i} entleert nach {rolling_info.get(f'r{i}_drain', 0):.1f} s, beendet nach "
                f"{rolling_info.get(f'r{i}_stop_s', 0):.1f} s"
                + (" (SIGKILL)" if rolling_info.get(f"r{i}_killed") else "")
                + f" ({shutdown_lines.get(f'r{i}', '-')})"
                for i in range(1, len(rasas) + 1)
            )
        )
        print(f"Ereignisse geprüft: {events_checked}; Anträge im Portal: {landed}")
        seen = versions_seen(pg.url, rolling)
        label = {old_id: "alt", new_id: "neu"}
        mixed = [c for c in rolling if {old_id, new_id} <= set(seen.get(c.conversation_id, []))]
        switched_in_form = [c for c in mixed if label.get(seen[c.conversation_id][2], "") == "alt"]
        unknown = {m for ids in seen.values() for m in ids} - {old_id, new_id}
        turns = [m for ids in seen.values() for m in ids]
        print(
            f"Modellversionen im Rolling Update: alt {old_id[:8]} ({model.name}), neu {new_id[:8]} "
            f"({new_model.name}); Züge alt/neu: {turns.count(old_id)}/{turns.count(new_id)}"
        )
        print(
            f"Gespräche mit Zügen beider Versionen: {len(mixed)} (davon im Formular gewechselt: "
            f"{len(switched_in_form)}), abgeschlossen: {sum(c.finished for c in mixed)}; "
            f"Fehler/Störungshinweise in ihnen: {sum(c.errors + c.notices for c in mixed)}"
        )
        if unknown:
            anomalies.append(f"rolling update: turns of an unknown model version {sorted(unknown)}")
        if not mixed:
            anomalies.append("rolling update: no conversation had turns of both model versions")
        print(
            f"Je Prozess vor dem Kill ({kill_info.get('window_messages', 0):.0f} Nachrichten in "
            f"{kill_info.get('window_s', 0):.0f} s, "
            f"{kill_info.get('window_messages', 0) / max(1.0, kill_info.get('window_s', 1)):.1f} Nachrichten/s):"
        )
        for name, (cores, ms, mb) in usage.items():
            print(f"  {name:18s} CPU {cores:5.2f} Kerne, {ms:6.1f} ms CPU je Nachricht, RSS {mb:6.0f} MB")
        print(f"Anomalien: {len(anomalies)}")
        for line in anomalies[:50]:
            print(f"  - {line}")
        if rolling_errors:
            anomalies.append("rolling update: errors seen")
        killed = [f"r{i}" for i in range(1, len(rasas) + 1) if rolling_info.get(f"r{i}_killed")]
        if killed:
            anomalies.append(f"rolling update: {', '.join(killed)} did not stop within {STOP_GRACE_S:.0f} s (SIGKILL)")
        return 1 if anomalies else 0
    finally:
        for service in reversed(procs):
            service.stop()
        if proxy:
            proxy.stop()
        pg.close()
        redis.close()
        if args.keep:
            print(f"Ordner: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
