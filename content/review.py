"""Review inbox: learn from real conversations. ``python -m content.review`` (``make review``).

Reads the tracker store (``TRACKER_STORE_URL``, default ``sqlite:///var/tracker.db``) and lists
the citizens' messages the assistant handled badly, grouped by (masked) text and counted:

* ``nicht verstanden`` (fallback): NLU fell back (``nlu_fallback``), or the assistant
  answered with ``action_default_fallback`` / ``utter_default``;
* ``außerhalb des Angebots``: NLU read the message as out of scope (perhaps a missing procedure);
* ``unsicher`` (low confidence): the intent's confidence was below ``--low-confidence``;
* ``Auswahl angeboten`` (clarification): discovery answered with a choice of procedures
  (``/choose_procedure`` buttons); what the citizen then picked is shown as a suggestion;
* ``Korrektur``: the citizen corrected the assistant ("nein, ich meinte …", ``change_field``, or
  "nein, das meine ich nicht" / "nein, was anderes" after a proposed procedure, which the
  assistant answered with ``action_recover_procedure``); the message the assistant had
  misunderstood is listed too.

Answers inside a form that the form accepted are not listed: they are data, not phrasings.
Personal data is masked (``content.masking``) before anything is shown or stored.

An editor then assigns each entry::

    python -m content.review                         # the inbox
    python -m content.review assign 3f9a2c --procedure wohnsitz_anmelden
    python -m content.review assign 3f9a2c --intent ask_fees [--text "umformulierter Satz"]
    python -m content.review ignore 3f9a2c

``assign`` appends the (masked, placeholders filled with harmless examples) sentence to the
training data in the right file (``content.nlu_data.append_example``); decisions are kept in
``var/review/decisions.jsonl`` so an entry does not come back.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from buergerassistent.settings import get_settings
from content import masking
from content.nlu_data import NLU_DIR, REPO_ROOT, normalise

LOW_CONFIDENCE = 0.6
REASONS = {
    "fallback": "nicht verstanden",
    "out_of_scope": "außerhalb des Angebots",
    "low_confidence": "unsicher erkannt",
    "clarification": "Auswahl angeboten",
    "correction": "Korrektur durch Bürger",
    "contradicted": "Antwort widersprochen",
}
FALLBACK_ACTIONS = {"action_default_fallback", "utter_default"}
# Actions that propose a procedure (besides setting the slot ``procedure``), and the one that
# answers "nein, das meine ich nicht" to such a proposal (actions/context.py).
PROPOSING_ACTIONS = {"action_discover_procedure", "action_choose_procedure", "action_recover_procedure"}
RECOVERY_ACTION = "action_recover_procedure"
_CORRECTION_CUE = re.compile(
    r"^\s*(?:nein|ne|nee|falsch|stimmt nicht|das (?:ist|war) (?:falsch|nicht richtig)|nicht das)\b"
    r"|\bich meinte\b|\bich meine\b|\bdas meine ich nicht\b|\bdas wollte ich nicht\b",
    re.I,
)
_CHOOSE = re.compile(r'^/choose_procedure\{\s*"procedure"\s*:\s*"([\w-]+)"')


def default_tracker_url() -> str:
    return get_settings().tracker_store_url or f"sqlite:///{get_settings().var_dir / 'tracker.db'}"


def default_state_dir() -> Path:
    return get_settings().ba_review_dir or get_settings().var_dir / "review"


# --------------------------------------------------------------------------- reading
def read_conversations(url: str) -> dict[str, list[dict]]:
    """Events per conversation from Rasa's SQL tracker store (table ``events``), in order."""
    from sqlalchemy import MetaData, Table, create_engine, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import NoSuchTableError

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database and not Path(parsed.database).exists():
        return {}  # no conversation yet (and connecting would create an empty file)
    engine = create_engine(url, future=True)
    try:
        try:
            events = Table("events", MetaData(), autoload_with=engine)
        except NoSuchTableError:
            return {}
        conversations: dict[str, list[dict]] = defaultdict(list)
        with engine.connect() as conn:
            rows = conn.execute(select(events.c.sender_id, events.c.data).order_by(events.c.id))
            for sender, data in rows:
                try:
                    conversations[sender].append(json.loads(data))
                except (TypeError, ValueError):
                    continue
        return dict(conversations)
    finally:
        engine.dispose()


@dataclass
class Finding:
    text: str  # masked
    reasons: set[str]
    conversation: str  # hashed sender id
    intent: Optional[str] = None
    confidence: float = 0.0
    chosen: Optional[str] = None  # procedure the citizen picked from a choice
    offered: list[str] = field(default_factory=list)  # procedures offered in a choice


def _field_types() -> dict[str, str]:
    from buergerassistent.catalogue import default_catalogue

    return {f.name: f.type for p in default_catalogue().with_forms() for f in p.fields}


def _turns(events: list[dict]) -> list[tuple[dict, list[dict], dict]]:
    """(user event, events until the next user event, state before it) per user message."""
    turns = []
    state: dict = {"active_loop": None, "requested_slot": None}
    current: Optional[tuple[dict, list[dict], dict]] = None
    for ev in events:
        kind = ev.get("event")
        if kind == "user":
            current = (ev, [], dict(state))
            turns.append(current)
        elif current is not None:
            current[1].append(ev)
        if kind == "active_loop":
            state["active_loop"] = ev.get("name")
            if not ev.get("name"):
                state["requested_slot"] = None
        elif kind == "slot" and ev.get("name") == "requested_slot":
            state["requested_slot"] = ev.get("value")
        elif kind in ("restart", "session_started"):
            state = {"active_loop": None, "requested_slot": None}
    return turns


def findings_of(
    sender: str,
    events: list[dict],
    low_confidence: float = LOW_CONFIDENCE,
    field_types: Optional[dict[str, str]] = None,
) -> list[Finding]:
    field_types = field_types if field_types is not None else _field_types()
    # Everything the citizen gave in a form is masked wherever it appears again.
    known = {
        (str(ev["value"]), masking.placeholder_for(field_types[ev["name"]]))
        for ev in events
        if ev.get("event") == "slot"
        and ev.get("name") in field_types
        and isinstance(ev.get("value"), str)
        and field_types[ev["name"]] in masking.PERSONAL_TYPES
    }
    conversation = hashlib.sha256(sender.encode()).hexdigest()[:10]
    found: list[Finding] = []
    previous: Optional[Finding] = None
    previous_discovered = False
    for user, after, state in _turns(events):
        text = (user.get("text") or "").strip()
        parse = user.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
        chosen = _CHOOSE.match(text)
        if chosen:
            # A click on an offered procedure: the label for the message that needed the choice.
            if previous is not None and "clarification" in previous.reasons:
                previous.chosen = chosen.group(1)
            continue
        if not text or text.startswith("/"):
            continue
        actions = [ev.get("name") for ev in after if ev.get("event") == "action"]
        # a custom action that answers with a response ("nicht verstanden" after discovery found
        # nothing) counts as that response
        actions += [(ev.get("metadata") or {}).get("utter_action") for ev in after if ev.get("event") == "bot"]
        requested = state.get("requested_slot")
        answered = bool(state.get("active_loop")) and any(
            ev.get("event") == "slot" and ev.get("name") == requested and ev.get("value") is not None for ev in after
        )
        reasons: set[str] = set()
        # A response sent by a custom action ("utter_default" from a custom action) is a fallback too.
        uttered = {(ev.get("metadata") or {}).get("utter_action") for ev in after if ev.get("event") == "bot"}
        if not answered:
            if intent == "nlu_fallback" or FALLBACK_ACTIONS & (set(actions) | uttered):
                reasons.add("fallback")
            elif intent == "out_of_scope":
                # Perhaps a procedure the catalogue lacks: worth an editor's look.
                reasons.add("out_of_scope")
            elif confidence < low_confidence:
                reasons.add("low_confidence")
        offered = [
            m.group(1)
            for ev in after
            if ev.get("event") == "bot"
            for b in ((ev.get("data") or {}).get("buttons") or [])
            if (m := _CHOOSE.match(str(b.get("payload") or "")))
        ]
        if offered:
            reasons.add("clarification")
        # A bare "nein" answers a yes/no question; a correction says more ("nein, ich meinte …").
        cue = _CORRECTION_CUE.search(text) and len(text.split()) > 2
        recovered = RECOVERY_ACTION in actions  # "nein, das meine ich nicht" to a proposed procedure
        if intent == "change_field" or recovered or cue and (state.get("active_loop") or previous_discovered):
            reasons.add("correction")
            if previous is not None and previous_discovered and all(f is not previous for f in found):
                previous.reasons.add("contradicted")
                found.append(previous)
        finding = Finding(masking.mask(text, known), reasons, conversation, intent, confidence, offered=offered)
        if reasons:
            found.append(finding)
        previous = finding
        previous_discovered = bool(PROPOSING_ACTIONS & set(actions)) or any(
            ev.get("event") == "slot" and ev.get("name") == "procedure" and ev.get("value") for ev in after
        )
    return found


# --------------------------------------------------------------------------- inbox
@dataclass
class Entry:
    id: str
    text: str
    count: int
    conversations: int
    reasons: dict[str, int]
    intents: dict[str, int]
    chosen: dict[str, int]
    offered: list[str]


def entry_id(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:6]


def group(findings: Iterable[Finding], done: Iterable[str] = ()) -> list[Entry]:
    done = set(done)
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[entry_id(f.text)].append(f)
    entries = []
    for key, items in groups.items():
        if key in done:
            continue
        reasons: dict[str, int] = defaultdict(int)
        intents: dict[str, int] = defaultdict(int)
        chosen: dict[str, int] = defaultdict(int)
        offered: list[str] = []
        for f in items:
            for r in f.reasons:
                reasons[r] += 1
            intents[f.intent or "?"] += 1
            if f.chosen:
                chosen[f.chosen] += 1
            offered += [o for o in f.offered if o not in offered]
        entries.append(
            Entry(
                key,
                items[0].text,
                len(items),
                len({f.conversation for f in items}),
                dict(reasons),
                dict(intents),
                dict(chosen),
                offered,
            )
        )
    return sorted(entries, key=lambda e: (-e.count, e.text.casefold()))


def load_decisions(state_dir: Path) -> dict[str, dict]:
    path = state_dir / "decisions.jsonl"
    if not path.exists():
        return {}
    decisions = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            decisions[d["id"]] = d
    return decisions


def save_decision(state_dir: Path, decision: dict) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "decisions.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(decision, ensure_ascii=False) + "\n")


def inbox(url: str, state_dir: Path, low_confidence: float = LOW_CONFIDENCE) -> list[Entry]:
    field_types = _field_types()
    findings: list[Finding] = []
    for sender, events in read_conversations(url).items():
        findings += findings_of(sender, events, low_confidence, field_types)
    return group(findings, load_decisions(state_dir))


def render(entries: list[Entry]) -> str:
    if not entries:
        return "Der Posteingang ist leer: keine offenen Nachrichten."
    lines = [f"{len(entries)} offene Einträge (häufigste zuerst):", ""]
    for e in entries:
        reasons = ", ".join(f"{REASONS.get(r, r)} {n}×" for r, n in sorted(e.reasons.items()))
        intents = ", ".join(f"{i} {n}×" for i, n in sorted(e.intents.items(), key=lambda kv: -kv[1]))
        lines.append(f"[{e.id}] „{e.text}“")
        lines.append(f"         {e.count}× in {e.conversations} Gespräch(en); {reasons}; erkannt als: {intents}")
        if e.offered:
            lines.append(f"         angeboten: {', '.join(e.offered)}")
        if e.chosen:
            lines.append(
                "         gewählt vom Bürger: "
                + ", ".join(f"{p} {n}×" for p, n in e.chosen.items())
                + f"  → python -m content.review assign {e.id} --procedure {max(e.chosen, key=e.chosen.get)}"
            )
    lines += [
        "",
        "Zuordnen: python -m content.review assign ID --intent ABSICHT | --procedure LEISTUNG",
        "Verwerfen: python -m content.review ignore ID",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- assigning
class ReviewError(ValueError):
    pass


def assign(
    entry: Entry,
    state_dir: Path,
    intent: Optional[str] = None,
    procedure: Optional[str] = None,
    text: Optional[str] = None,
    nlu_dir: Path = NLU_DIR,
) -> dict:
    """Append the entry's sentence to the training data; returns what was done."""
    from buergerassistent.catalogue import default_catalogue
    from content.lint import merged_domain, settings
    from content.nlu_data import append_example

    if procedure:
        proc = default_catalogue().get(procedure)
        if proc is None or not proc.curated:
            raise ReviewError(f"'{procedure}' ist keine Leistung im Katalog (catalogue/procedures/).")
        intent = intent or "request_procedure"
    if not intent:
        raise ReviewError("Bitte --intent oder --procedure angeben.")
    intents = set(merged_domain()["intents"]) - set(settings().get("payload_only_intents") or [])
    if intent not in intents:
        raise ReviewError(
            f"Absicht '{intent}' gibt es nicht. Vorhanden: {', '.join(sorted(intents))}. "
            "Eine neue Absicht legen Sie zuerst an (docs/redaktion.md)."
        )
    sentence = masking.fill_placeholders(text or entry.text)
    from content.evaluate import load_nlu_testset

    if any(normalise(t) == normalise(sentence) for t, _ in load_nlu_testset()):
        raise ReviewError(
            "Dieser Satz steht im Testset (tests/data/nlu_testset.yml) und darf nicht gelernt "
            "werden; formulieren Sie ihn mit --text um."
        )
    path, line = append_example(intent, sentence, directory=nlu_dir)
    decision = {
        "id": entry.id,
        "action": "assign",
        "intent": intent,
        "procedure": procedure,
        "file": f"{_rel(path)}:{line}",
        "at": time.strftime("%Y-%m-%d %H:%M"),
    }
    save_decision(state_dir, decision)
    hint = None
    if procedure:
        from buergerassistent.procedure_finder import ranked

        got = [c.id for c in ranked(sentence, "request_procedure", 1.0)]
        if got[:1] != [procedure]:
            hint = (
                f"Die Suche findet für diesen Satz zuerst: {', '.join(got) or 'nichts'}. Ergänzen Sie in "
                f"catalogue/procedures/{procedure}.yaml unter keywords oder synonyms ein Wort, das "
                "Bürger so verwenden, und prüfen Sie mit `make check-content`."
            )
    decision["hint"] = hint
    return decision


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.review", description=__doc__.splitlines()[0])
    parser.add_argument("--tracker-store", default=default_tracker_url(), help="SQLAlchemy URL of the tracker store")
    parser.add_argument("--state", type=Path, default=default_state_dir(), help="folder for the decisions")
    parser.add_argument("--nlu-dir", type=Path, default=NLU_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--low-confidence", type=float, default=LOW_CONFIDENCE)
    parser.add_argument("--json", action="store_true", help="print the inbox as JSON")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="show the inbox (default)")
    a = sub.add_parser("assign", help="add an entry's sentence to the training data")
    a.add_argument("id")
    target = a.add_mutually_exclusive_group(required=True)
    target.add_argument("--intent")
    target.add_argument("--procedure")
    a.add_argument("--text", help="the sentence as it should be learnt (default: the masked message)")
    i = sub.add_parser("ignore", help="drop an entry from the inbox")
    i.add_argument("id")
    args = parser.parse_args(argv)

    import logging

    logging.disable(logging.WARNING)
    try:
        entries = inbox(args.tracker_store, args.state, args.low_confidence)
    except Exception as exc:  # noqa: BLE001 - an editor needs the reason, not a traceback
        print(
            f"Der Gesprächsspeicher ({_safe_url(args.tracker_store)}) ist nicht lesbar: {exc.__class__.__name__}",
            file=sys.stderr,
        )
        return 2
    if args.command in (None, "list"):
        if args.json:
            print(json.dumps([e.__dict__ for e in entries], ensure_ascii=False, indent=1))
        else:
            print(render(entries))
        return 0
    entry = next((e for e in entries if e.id == args.id), None)
    if entry is None:
        print(f"Kein offener Eintrag mit der Nummer {args.id}.", file=sys.stderr)
        return 1
    if args.command == "ignore":
        save_decision(args.state, {"id": entry.id, "action": "ignore", "at": time.strftime("%Y-%m-%d %H:%M")})
        print(f"[{entry.id}] verworfen.")
        return 0
    try:
        done = assign(entry, args.state, args.intent, args.procedure, args.text, args.nlu_dir)
    except (ReviewError, ValueError) as exc:
        print(f"Nicht übernommen: {exc}", file=sys.stderr)
        return 1
    print(f"[{entry.id}] übernommen als Beispiel für '{done['intent']}' in {done['file']}.")
    if done.get("hint"):
        print(f"Hinweis: {done['hint']}")
    print("Weiter: `make check-content`, dann `make reload` (lädt das neue Modell in den laufenden Assistenten).")
    return 0


def _safe_url(url: str) -> str:
    """The URL without a password (never print credentials)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
