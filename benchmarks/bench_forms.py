"""Form completion benchmark: scripted citizens fill every catalogue form over the REST channel.

    .venv/bin/python -m benchmarks.bench_forms          (or: make bench-forms)

Starts the whole stack on free ports (cached model, temporary databases) and lets three kinds of
scripted citizens apply for every procedure with a form:

- ``direct``: answers each question with the field's example;
- ``bundled``: gives several values in one message where a clerk would ("Erika Mustermann,
  geboren 12.8.1964", "Marienplatz 8, 80331 München"), skips optional questions;
- ``repairing``: like ``bundled``, plus a question in the middle ("Was kostet das?"), a
  correction of an earlier answer ("nein, die Postleitzahl ist 80335" or "ändere den Vornamen")
  and one invalid answer.

Several values in one message are echoed before they are stored ("Ich habe übernommen: …
Stimmt das?"); the scripted citizen confirms with "Ja", which counts as a turn.
A citizen answers the question the assistant actually asks (recognised by the catalogue prompt),
so a re-asked or skipped question shows up in the figures. A form is completed when the summary
was confirmed and a case number came back. Turns = citizen messages from "Ja" (start of the form)
to the summary, inclusive. Printed: completion rate and average turns per completed form, also
relative to the number of fields (target: 100 % and at most 1.3 × fields). No timed assertions.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot.local_stack import RestChat, start_local_stack
from buergerassistent.catalogue import Field, Procedure, default_catalogue
from buergerassistent.validation import default_example

CASE_NUMBER = re.compile(r"Aktenzeichen lautet (\S+?)\.(?:\s|$)")
SUMMARY = "sende ich den Antrag ab"
ECHO = "Ich habe übernommen:"


@dataclass
class Chat(RestChat):
    verbose: bool = False

    def say_text(self, text: str) -> str:
        reply = super().say_text(text)
        if self.verbose:
            print(f"  Bürger:    {text}\n  Assistent: {reply}", flush=True)
        return reply


def example(f: Field) -> str:
    return f.example or default_example(f.type, choices=f.choices or None)


def asked_field(proc: Procedure, reply: str) -> Optional[Field]:
    """The field whose question ends the reply (the last "Schritt k von n: …")."""
    last = reply.rsplit("Schritt ", 1)[-1] if "Schritt " in reply else ""
    for f in proc.fields:
        if f.prompt in last:
            return f
    return None


def _bundle(proc: Procedure, f: Field) -> Optional[str]:
    """A message with several values starting at field ``f``, as citizens write them."""
    names = [x.name for x in proc.fields]
    i = names.index(f.name)
    nxt = proc.fields[i + 1] if i + 1 < len(proc.fields) else None
    after = proc.fields[i + 2] if i + 2 < len(proc.fields) else None
    if f.type == "name" and nxt is not None and nxt.type == "name":
        text = f"{example(f)} {example(nxt)}"
        if after is not None and after.type == "birth_date":
            text += f", geboren {example(after)}"
        return text
    if f.type == "street" and nxt is not None and nxt.type == "postcode" and after is not None and after.type == "city":
        return f"{example(f)}, {example(nxt)} {example(after)}"
    return None


def plan(kind: str, proc: Procedure) -> Callable[[Field, dict], list[str]]:
    """What the citizen writes when asked ``field`` (a list: extra turns come first)."""

    def answer(f: Field, state: dict) -> list[str]:
        if kind == "direct":
            return [example(f)]
        msgs: list[str] = []
        if kind == "repairing":
            if not state.get("digressed") and f is not proc.fields[0]:
                state["digressed"] = True
                msgs.append("Was kostet das?")
            elif not state.get("invalid") and f.type in ("postcode", "birth_date", "email", "kfz_kennzeichen"):
                state["invalid"] = True
                msgs.append(
                    {
                        "postcode": "8033",
                        "birth_date": "31.02.1964",
                        "email": "erika(at)example",
                        "kfz_kennzeichen": "123",
                    }[f.type]
                )
            elif not state.get("corrected") and state.get("answered", 0) >= 3:
                state["corrected"] = True
                plz = next((x for x in proc.fields if x.type == "postcode" and state["filled"].get(x.name)), None)
                if plz is not None:
                    msgs.append(f"nein, die {plz.label} ist 80335")
                else:
                    msgs.append(f"ändere {proc.fields[0].label}")
        if not f.required:
            return msgs + ["überspringen"]
        bundled = _bundle(proc, f)
        return msgs + [bundled or example(f)]

    return answer


def run_citizen(chat: Chat, proc: Procedure, kind: str) -> tuple[bool, int]:
    # The procedure as if chosen by button: a typed payload nobody offered is only text
    # (rasa_runtime/channels/payload_guard.py), so through Rasa's API.
    reply = chat.trigger_intent_text("choose_procedure", {"procedure": proc.id})
    reply = chat.say_text("Ja")
    turns = 1
    answer = plan(kind, proc)
    state: dict = {"filled": {}, "answered": 0}
    pending: list[str] = []
    limit = 3 * len(proc.fields) + 5
    while SUMMARY not in reply and turns < limit:
        if ECHO in reply and not pending:
            # Several values in one message are echoed before they are stored: confirm them.
            reply = chat.say_text("Ja")
            turns += 1
            continue
        if not pending:
            f = asked_field(proc, reply)
            if f is None:
                return False, turns
            pending = answer(f, state)
            state["filled"][f.name] = True
            state["answered"] += 1
        reply = chat.say_text(pending.pop(0))
        turns += 1
    if SUMMARY not in reply:
        return False, turns
    final = chat.say_text("Ja, absenden")
    return bool(CASE_NUMBER.search(final)), turns


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="direct,bundled,repairing")
    parser.add_argument("--procedures", default="", help="comma-separated ids (default: all forms)")
    parser.add_argument("--verbose", action="store_true", help="print the conversations")
    args = parser.parse_args(argv)

    from bot.training import ensure_model

    procs = default_catalogue().with_forms()
    if args.procedures:
        wanted = set(args.procedures.split(","))
        procs = [p for p in procs if p.id in wanted]
    kinds = args.kinds.split(",")
    model = ensure_model(quiet=True)
    with tempfile.TemporaryDirectory(prefix="bench-forms-") as tmp:
        var = Path(tmp)
        print("Starte den Stack …", file=sys.stderr, flush=True)
        # Scripted citizens answer at machine speed; the channel's per-sender limit is for people.
        os.environ.setdefault("WEBCHAT_RATE_LIMIT", "100000/60")
        stack = start_local_stack(model, var, timeout=300)
        settings = stack.settings
        try:
            rows = []
            for proc in procs:
                for kind in kinds:
                    chat = Chat(settings, f"bench-{proc.id}-{kind}", verbose=args.verbose)
                    done, turns = run_citizen(chat, proc, kind)
                    rows.append((proc, kind, done, turns))
                    print(
                        f"{proc.id:26} {kind:10} fields={len(proc.fields):2} turns={turns:2} "
                        f"{'completed' if done else 'NOT completed'}",
                        flush=True,
                    )
        finally:
            stack.stop()
    completed = [r for r in rows if r[2]]
    rate = len(completed) / len(rows) if rows else 0.0
    avg_turns = sum(r[3] for r in completed) / len(completed) if completed else float("nan")
    avg_ratio = sum(r[3] / len(r[0].fields) for r in completed) / len(completed) if completed else float("nan")
    print(f"\nForms completed: {len(completed)}/{len(rows)} = {rate:.0%}")
    print(f"Average turns per completed form: {avg_turns:.2f} (= {avg_ratio:.2f} × number of fields; target ≤ 1.30)")
    for kind in kinds:
        ks = [r for r in completed if r[1] == kind]
        if ks:
            print(f"  {kind:10} {len(ks)} completed, {sum(r[3] / len(r[0].fields) for r in ks) / len(ks):.2f} × fields")
    return 0


if __name__ == "__main__":
    sys.exit(main())
