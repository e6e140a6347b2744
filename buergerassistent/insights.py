"""Insights: what citizens ask, where they give up, how satisfied they are (issue 22).

Rasa publishes every tracker event to RabbitMQ (its Pika event broker, ``INSIGHTS_BROKER_URL``);
the insights service (``python -m insights consume``) reads them and hands each one to
:class:`Insights.ingest`. Nothing of the Rasa event is stored as it is: :class:`Interpreter`
turns the stream of one conversation into a few **facts** (one row each in ``insights_facts``),
and only these reach the database:

============== ==========================================================================
kind           meaning (``key`` / ``value`` / ``text``)
============== ==========================================================================
conversation   a conversation (session) began; ``channel`` is its channel
discovery      the assistant looked for a procedure: ``key`` answer | choice | none;
               ``text`` only for none: the citizen's question, **masked**
procedure      a procedure was presented (``key`` = catalogue id)
form_started   a form began (``key`` = procedure)
form_completed every field answered (``key`` = procedure, ``value`` = seconds it took)
form_abandoned the form ended or the conversation went quiet with a field open
               (``key`` = procedure, ``field`` = the open field)
login          ``key`` = success or the reason it failed (``identity`` reason codes)
submission     an application was confirmed (``key`` = procedure, ``field`` = delivered |
               saved | rejected)
feedback       ``key`` = ``value`` = 1–5 (thumbs: 5 / 1), ``text`` = the optional comment, **masked**
============== ==========================================================================

What the actions say about themselves travels in the slot ``insights`` (``MARKER_SLOT``, one
marker ``{"kind": …}`` or a list of them; it does not influence the dialogue): login results,
submissions, discovery outcomes and feedback. Everything else is read from Rasa's own events
(``active_loop``, ``requested_slot``, the slot ``procedure``, ``session_started``).

Masking: free text is kept only where a figure needs it (questions that found nothing, feedback
comments) and then only through ``buergerassistent.masking.mask``, with the values the citizen
typed into form fields of personal types as known values (kept in memory only, never stored).
Conversation ids are stored as SHA-256 digests.

Retention (``INSIGHTS_RETENTION_DAYS``, default 90): :meth:`Insights.purge` folds facts older than
that into ``insights_daily`` (day, channel, kind, key, field, count, sum of values) and deletes
them with their texts; the figures read both tables, so they stay the same.
:meth:`Insights.forget_conversation` deletes one conversation's facts and state and remembers its
digest (``insights_forgotten``), so events of it still on the way through the broker are dropped.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from buergerassistent import masking, storage
from buergerassistent.settings import get_settings

MARKER_SLOT = "insights"
TIMEZONE = ZoneInfo("Europe/Berlin")
# A conversation with an open form and no event for this long counts as given up there.
IDLE_SECONDS = 3600
KINDS = (
    "conversation",
    "discovery",
    "procedure",
    "form_started",
    "form_completed",
    "form_abandoned",
    "login",
    "submission",
    "feedback",
)
DISCOVERY_OUTCOMES = ("answer", "choice", "none")
RATINGS = ("1", "2", "3", "4", "5")
# Sender id prefixes of our channels (DEVELOPERS.md: "Sender ids never collide across channels").
CHANNEL_PREFIXES = {"wc-": "webchat", "rest-": "rest", "tg-": "telegram", "threema-": "threema", "mx-": "matrix"}

metadata = MetaData(info={"store": "insights"})  # its schema: migrations/versions/insights
facts = Table(
    "insights_facts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation", String(64), nullable=False, index=True),  # SHA-256 of the sender id
    Column("ts", Float, nullable=False, index=True),
    Column("day", String(10), nullable=False, index=True),  # Europe/Berlin, YYYY-MM-DD
    Column("channel", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(120), nullable=False, default=""),
    Column("field", String(120), nullable=False, default=""),
    Column("value", Float),
    Column("text", Text),  # masked
)
daily = Table(
    "insights_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("field", String(120), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("total", Float, nullable=False, default=0.0),
    # completed forms: {seconds: count}, so the median stays exact after the facts are gone
    Column("values", Text),
)
conversations = Table(
    "insights_conversations",
    metadata,
    Column("conversation", String(64), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("last_ts", Float, nullable=False, index=True),
    Column("state", Text, nullable=False),  # JSON, no personal data (see ConversationState)
)
forgotten = Table(
    "insights_forgotten",
    metadata,
    Column("conversation", String(64), primary_key=True),
    Column("at", Float, nullable=False),
)


def digest(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, TIMEZONE).date().isoformat()


def week_of(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def channel_of(sender_id: str, input_channel: Optional[str]) -> str:
    for prefix, name in CHANNEL_PREFIXES.items():
        if sender_id.startswith(prefix):
            return name
    return (input_channel or "unbekannt")[:32]


def markers(value: Any) -> list[dict]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [m for m in value if isinstance(m, dict)]
    return []


def marker(kind: str, **data: Any) -> dict:
    """The value an action sets in the slot ``insights`` (see the module docstring)."""
    return {"kind": kind, **{k: v for k, v in data.items() if v is not None}}


@lru_cache(maxsize=1)
def _field_types() -> dict[str, str]:
    from buergerassistent.catalogue import default_catalogue

    return {f.name: f.type for p in default_catalogue().with_forms() for f in p.fields}


def form_procedure(loop_name: str) -> str:
    return loop_name[: -len("_form")] if loop_name.endswith("_form") else loop_name


@dataclass
class Fact:
    kind: str
    key: str = ""
    field: str = ""
    value: Optional[float] = None
    text: Optional[str] = None


@dataclass
class ConversationState:
    """What the interpreter remembers of a conversation between events (stored as JSON: no text,
    no slot values)."""

    channel: str = "unbekannt"
    counted: bool = False  # the session's conversation fact is written
    form: Optional[str] = None
    form_started: Optional[float] = None
    requested: Optional[str] = None
    last_procedure: Optional[str] = None
    last_ts: float = 0.0
    feedback_given: bool = False
    # in memory only: (value, placeholder) of personal form answers, for masking
    known: list[tuple[str, str]] = field(default_factory=list)

    def dump(self) -> str:
        data = dict(self.__dict__)
        data.pop("known")
        return json.dumps(data)

    @classmethod
    def load(cls, raw: str) -> ConversationState:
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "known"})


class Interpreter:
    """Rasa events of one conversation → facts (pure; the store keeps the state)."""

    def feed(self, state: ConversationState, event: dict) -> list[Fact]:
        kind = event.get("event")
        ts = float(event.get("timestamp") or time.time())
        out: list[Fact] = []
        if state.form and ts - state.last_ts > IDLE_SECONDS and state.last_ts:
            out += self._abandon(state)
        state.last_ts = max(state.last_ts, ts)
        if kind == "session_started":
            if state.form:
                out += self._abandon(state)
            state.counted = False
            state.feedback_given = False
            state.known = []
        elif kind == "user":
            text = event.get("text") or ""
            if not state.counted and not text.startswith("/EXTERNAL_"):
                state.counted = True
                out.append(Fact("conversation"))
        elif kind == "active_loop":
            name = event.get("name")
            if name and name != state.form:
                if state.form:
                    out += self._abandon(state)
                state.form, state.form_started, state.requested = name, ts, None
                out.append(Fact("form_started", form_procedure(name)))
            elif not name and state.form:
                if state.requested:
                    out += self._abandon(state)
                else:
                    out.append(
                        Fact("form_completed", form_procedure(state.form), value=round(ts - (state.form_started or ts)))
                    )
                state.form, state.form_started, state.requested = None, None, None
        elif kind == "slot":
            out += self._slot(state, event.get("name"), event.get("value"))
        return out

    def _abandon(self, state: ConversationState) -> list[Fact]:
        fact = Fact("form_abandoned", form_procedure(state.form or ""), state.requested or "")
        state.form, state.form_started, state.requested = None, None, None
        return [fact]

    def _slot(self, state: ConversationState, name: Optional[str], value: Any) -> list[Fact]:
        if name == "requested_slot":
            state.requested = value if isinstance(value, str) else None
            return []
        if name == "procedure":
            if isinstance(value, str) and value and value != state.last_procedure:
                state.last_procedure = value
                return [Fact("procedure", value)]
            if value is None:
                state.last_procedure = None
            return []
        if name == MARKER_SLOT:
            return [f for m in markers(value) if (f := self._marker(state, m)) is not None]
        field_type = _field_types().get(name or "")
        if field_type in masking.PERSONAL_TYPES and isinstance(value, (str, int, float)) and str(value).strip():
            state.known.append((str(value), masking.placeholder_for(field_type)))
        return []

    def _marker(self, state: ConversationState, m: dict) -> Optional[Fact]:
        kind = m.get("kind")
        if kind == "discovery" and m.get("outcome") in DISCOVERY_OUTCOMES:
            text = mask_text(m.get("text"), state.known) if m["outcome"] == "none" else None
            return Fact("discovery", m["outcome"], text=text)
        if kind == "login_result" and isinstance(m.get("outcome"), str):
            return Fact("login", m["outcome"][:120])
        if kind == "submission" and isinstance(m.get("procedure"), str):
            return Fact("submission", m["procedure"], str(m.get("state") or ""))
        if kind == "feedback":
            try:
                rating = int(m.get("rating"))
            except (TypeError, ValueError):
                rating = None
            comment = mask_text(m.get("comment"), state.known)
            if rating is not None and 1 <= rating <= 5 and not state.feedback_given:
                state.feedback_given = True
                return Fact("feedback", str(rating), value=float(rating), text=comment)
            if comment:
                return Fact("feedback", "comment", text=comment)
        return None


def mask_text(text: Any, known: Iterable[tuple[str, str]] = ()) -> Optional[str]:
    if not isinstance(text, str) or not text.strip():
        return None
    return masking.mask(text.strip()[:500], list(known))


# --------------------------------------------------------------------------- the store


def database_url() -> str:
    return storage.database_url("INSIGHTS_DATABASE_URL", "insights.db")


class Insights:
    """The insights database (blocking SQLAlchemy; call from a thread in async code)."""

    def __init__(self, url: Optional[str] = None, engine: Optional[Engine] = None) -> None:
        self.engine = engine or storage.make_engine(url or database_url())
        storage.create_tables(metadata, self.engine)
        self.interpreter = Interpreter()
        # personal form values per conversation, in this process's memory only
        self._known: dict[str, list[tuple[str, str]]] = {}

    # ------------------------------------------------------------------ writing
    def ingest(self, event: dict) -> list[Fact]:
        """One Rasa event as the event broker publishes it (with ``sender_id``)."""
        sender = event.get("sender_id")
        if not isinstance(sender, str) or not sender:
            return []
        key = digest(sender)
        with self.engine.begin() as conn:
            if conn.execute(select(forgotten.c.conversation).where(forgotten.c.conversation == key)).first():
                return []
            row = conn.execute(select(conversations.c.state).where(conversations.c.conversation == key)).first()
            state = ConversationState.load(row[0]) if row else ConversationState()
            if event.get("event") == "user" or state.channel == "unbekannt":
                state.channel = channel_of(sender, event.get("input_channel"))
            state.known = self._known.setdefault(key, [])
            new = self.interpreter.feed(state, event)
            ts = float(event.get("timestamp") or time.time())
            self._write(conn, key, state.channel, ts, new)
            values = {"channel": state.channel, "last_ts": state.last_ts, "state": state.dump()}
            if row:
                conn.execute(update(conversations).where(conversations.c.conversation == key).values(**values))
            else:
                conn.execute(insert(conversations).values(conversation=key, **values))
        return new

    @staticmethod
    def _write(conn, key: str, channel: str, ts: float, new: list[Fact]) -> None:
        for f in new:
            conn.execute(
                insert(facts).values(
                    conversation=key,
                    ts=ts,
                    day=day_of(ts),
                    channel=channel,
                    kind=f.kind,
                    key=f.key,
                    field=f.field,
                    value=f.value,
                    text=f.text,
                )
            )

    def close_idle(self, now: Optional[float] = None, idle_seconds: float = IDLE_SECONDS) -> int:
        """Forms left open in conversations quiet for ``idle_seconds``: given up at the open field."""
        now = time.time() if now is None else now
        closed = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(conversations.c.conversation, conversations.c.state).where(
                    conversations.c.last_ts < now - idle_seconds
                )
            ).all()
            for key, raw in rows:
                state = ConversationState.load(raw)
                if not state.form:
                    continue
                new = self.interpreter._abandon(state)
                self._write(conn, key, state.channel, state.last_ts, new)
                conn.execute(
                    update(conversations).where(conversations.c.conversation == key).values(state=state.dump())
                )
                self._known.pop(key, None)
                closed += 1
        return closed

    # ------------------------------------------------------------------ retention and deletion
    def purge(self, now: Optional[float] = None, retention_days: Optional[int] = None) -> int:
        """Fold facts older than the retention period into daily aggregates and delete them
        (with their masked texts). Returns the number of facts deleted."""
        now = time.time() if now is None else now
        days = get_settings().insights_retention_days if retention_days is None else retention_days
        cutoff = now - days * 86400
        self.close_idle(now)
        with self.engine.begin() as conn:
            old = conn.execute(
                select(facts.c.day, facts.c.channel, facts.c.kind, facts.c.key, facts.c.field, facts.c.value).where(
                    facts.c.ts < cutoff
                )
            ).all()
            groups: dict[tuple, list[Optional[float]]] = defaultdict(list)
            for day, channel, kind, key, fld, value in old:
                groups[(day, channel, kind, key, fld)].append(value)
            for (day, channel, kind, key, fld), values in groups.items():
                where = (
                    (daily.c.day == day)
                    & (daily.c.channel == channel)
                    & (daily.c.kind == kind)
                    & (daily.c.key == key)
                    & (daily.c.field == fld)
                )
                row = conn.execute(select(daily.c.count, daily.c.total, daily.c["values"]).where(where)).first()
                hist: Counter = Counter(json.loads(row[2]) if row and row[2] else {})
                if kind == "form_completed":
                    hist.update(str(int(v)) for v in values if v is not None)
                count = len(values) + (row[0] if row else 0)
                total = sum(v for v in values if v is not None) + (row[1] if row else 0.0)
                data = {"count": count, "total": total, "values": json.dumps(hist) if hist else None}
                if row:
                    conn.execute(update(daily).where(where).values(**data))
                else:
                    conn.execute(insert(daily).values(day=day, channel=channel, kind=kind, key=key, field=fld, **data))
            deleted = conn.execute(delete(facts).where(facts.c.ts < cutoff)).rowcount or 0
            conn.execute(delete(conversations).where(conversations.c.last_ts < cutoff))
            conn.execute(delete(forgotten).where(forgotten.c.at < cutoff))
        return deleted

    def forget_conversation(self, conversation_id: str) -> int:
        """Delete every fact and the state of one conversation; events of it still in the broker
        are dropped when they arrive. Aggregates hold no conversation. Returns facts deleted."""
        key = digest(conversation_id)
        self._known.pop(key, None)
        with self.engine.begin() as conn:
            n = conn.execute(delete(facts).where(facts.c.conversation == key)).rowcount or 0
            conn.execute(delete(conversations).where(conversations.c.conversation == key))
            if not conn.execute(select(forgotten.c.conversation).where(forgotten.c.conversation == key)).first():
                conn.execute(insert(forgotten).values(conversation=key, at=time.time()))
        return n

    # ------------------------------------------------------------------ reading
    def _rows(self, since: Optional[str], until: Optional[str], channel: Optional[str]) -> list[tuple]:
        """(day, channel, kind, key, field, count, total, {seconds: n}, text) from both tables."""
        f_where, d_where = [], []
        if since:
            f_where.append(facts.c.day >= since)
            d_where.append(daily.c.day >= since)
        if until:
            f_where.append(facts.c.day <= until)
            d_where.append(daily.c.day <= until)
        if channel:
            f_where.append(facts.c.channel == channel)
            d_where.append(daily.c.channel == channel)
        with self.engine.connect() as conn:
            live = conn.execute(
                select(
                    facts.c.day, facts.c.channel, facts.c.kind, facts.c.key, facts.c.field, facts.c.value, facts.c.text
                ).where(*f_where)
            ).all()
            folded = conn.execute(
                select(
                    daily.c.day,
                    daily.c.channel,
                    daily.c.kind,
                    daily.c.key,
                    daily.c.field,
                    daily.c.count,
                    daily.c.total,
                    daily.c["values"],
                ).where(*d_where)
            ).all()
        rows = []
        for day, ch, kind, key, fld, value, text in live:
            hist = {str(int(value)): 1} if kind == "form_completed" and value is not None else {}
            rows.append((day, ch, kind, key, fld, 1, value or 0.0, hist, text))
        for day, ch, kind, key, fld, count, total, values in folded:
            rows.append((day, ch, kind, key, fld, count, total, json.loads(values) if values else {}, None))
        return rows

    def channels(self) -> list[str]:
        with self.engine.connect() as conn:
            a = conn.execute(select(facts.c.channel).distinct()).scalars().all()
            b = conn.execute(select(daily.c.channel).distinct()).scalars().all()
        return sorted(set(a) | set(b))

    def figures(
        self,
        since: Optional[str] = None,
        until: Optional[str] = None,
        channel: Optional[str] = None,
        period: str = "day",
        top: int = 20,
    ) -> dict:
        """Every figure of the dashboard, per period (``day`` or ``week``) and in total."""
        rows = self._rows(since, until, channel)
        bucket = (lambda d: d) if period == "day" else week_of
        per: dict[str, dict] = defaultdict(_empty)
        total = _empty()
        nothing: Counter = Counter()
        durations: dict[str, Counter] = defaultdict(Counter)
        all_durations: Counter = Counter()
        for day, ch, kind, key, fld, count, value_sum, hist, text in rows:
            for target in (per[bucket(day)], total):
                _add(target, ch, kind, key, fld, count, value_sum)
            if kind == "discovery" and key == "none" and text:
                nothing[text] += count
            if kind == "form_completed":
                for seconds, n in hist.items():
                    durations[bucket(day)][float(seconds)] += n
                    all_durations[float(seconds)] += n
        for name, target in [*per.items(), ("total", total)]:
            hist = all_durations if name == "total" else durations.get(name, Counter())
            target["median_form_seconds"] = _median(hist)
            target["satisfaction_mean"] = (
                round(target["feedback_sum"] / target["feedback_count"], 2) if target["feedback_count"] else None
            )
        return {
            "period": period,
            "periods": {k: per[k] for k in sorted(per)},
            "total": total,
            "nothing_found": [{"text": t, "count": n} for t, n in nothing.most_common(top)],
        }

    def comments(self, since: Optional[str] = None, until: Optional[str] = None, limit: int = 50) -> list[dict]:
        where = [facts.c.kind == "feedback", facts.c.text.is_not(None)]
        if since:
            where.append(facts.c.day >= since)
        if until:
            where.append(facts.c.day <= until)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(facts.c.day, facts.c.value, facts.c.text).where(*where).order_by(facts.c.ts.desc()).limit(limit)
            ).all()
        return [{"day": d, "rating": v, "text": t} for d, v, t in rows]

    def count_facts(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(facts)).scalar_one()


def _empty() -> dict:
    return {
        "conversations": 0,
        "by_channel": Counter(),
        "discovery": Counter({k: 0 for k in DISCOVERY_OUTCOMES}),
        "procedures": Counter(),
        "forms_started": Counter(),
        "forms_completed": Counter(),
        "forms_abandoned": Counter(),
        "abandoned_at": Counter(),  # "procedure/field"
        "login": Counter(),
        "submissions": Counter(),
        "submission_states": Counter(),
        "ratings": Counter(),
        "feedback_count": 0,
        "feedback_sum": 0.0,
    }


def _add(target: dict, channel: str, kind: str, key: str, fld: str, count: int, value_sum: float) -> None:
    if kind == "conversation":
        target["conversations"] += count
        target["by_channel"][channel] += count
    elif kind == "discovery":
        target["discovery"][key] += count
    elif kind == "procedure":
        target["procedures"][key] += count
    elif kind == "form_started":
        target["forms_started"][key] += count
    elif kind == "form_completed":
        target["forms_completed"][key] += count
    elif kind == "form_abandoned":
        target["forms_abandoned"][key] += count
        target["abandoned_at"][f"{key}/{fld}"] += count
    elif kind == "login":
        target["login"][key] += count
    elif kind == "submission":
        target["submissions"][key] += count
        target["submission_states"][fld] += count
    elif kind == "feedback" and key in RATINGS:
        target["feedback_count"] += count
        target["feedback_sum"] += value_sum
        target["ratings"][key] += count


def _median(hist: Counter) -> Optional[float]:
    if not hist:
        return None
    values: list[float] = []
    for v, n in sorted(hist.items()):
        values += [v] * n
    return float(statistics.median(values))


def to_json(figures: dict) -> dict:
    """Counters as plain dicts (for JSON output and templates)."""

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return plain(figures)


def default_since(days: int = 28, today: Optional[date] = None) -> str:
    today = today or datetime.now(TIMEZONE).date()
    return (today - timedelta(days=days - 1)).isoformat()


@lru_cache(maxsize=4)
def _store_for(url: str) -> Insights:
    return Insights(url)


def default_store() -> Insights:
    return _store_for(database_url())


def forget_conversation(conversation_id: str) -> None:
    """For ``buergerassistent/privacy.py``: only when insights are switched on (a broker is set)."""
    if get_settings().insights_broker_url or get_settings().insights_database_url:
        default_store().forget_conversation(conversation_id)
