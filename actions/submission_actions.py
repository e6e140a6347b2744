"""Chat side of submissions: hand a confirmed application to the outbox, announce results that
arrive later, show the status of applications, withdraw one.

Whose applications a conversation may see: those it submitted itself (the outbox records the
conversation of every application) and, after a login, the citizen's own (listed by the
backend for the bPK2 the login service established, with a citizen assertion). A typed
Aktenzeichen is only a way to pick one of these: knowing a case number is no proof of anything
(they are printed on letters, said on the phone, guessable in bulk), so the status of any other
application is not shown here, and the answer does not tell whether it exists.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions import login
from actions import submission_messages as messages
from actions.forms import ActionFormInterruption, marks_language
from actions.forms import language as form_language
from actions.turns import ends_turn, set_awaiting
from buergerassistent import form_texts, translations
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.dialogue_state import Awaiting
from buergerassistent.handoff import callback
from buergerassistent.settings import get_settings
from buergerassistent.submission import delivery
from buergerassistent.submission.backends import backend_from_env
from buergerassistent.submission.outbox import DELIVERED, PENDING, REJECTED, Entry, Outbox, default_url
from buergerassistent.submission.portal_client import PortalClient, PortalRejected, PortalUnavailable

logger = logging.getLogger(__name__)

YES_NO_BUTTONS = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]


@lru_cache(maxsize=4)
def _outbox_for(url: str) -> Outbox:
    return Outbox.from_url(url)


def outbox() -> Outbox:
    return _outbox_for(default_url())


def inline_budget_s() -> float:
    """How long the submit action waits for the backend before it tells the citizen that the
    application is saved and will follow (the worker goes on)."""
    return float(get_settings().submission_inline_budget_s)


# --------------------------------------------------------------------------- submit


@dataclass
class SubmitOutcome:
    state: str  # delivered | rejected | pending
    entry: Entry


async def submit_confirmed(
    proc: Procedure,
    data: dict[str, Any],
    application_id: str,
    conversation_id: Optional[str],
    citizen: Optional[str] = None,
) -> SubmitOutcome:
    """Commits the application to the outbox FIRST, then tries one delivery right away.

    Raises only when the outbox cannot store it (``SQLAlchemyError``) or the configured
    backend does not exist (``BackendNotAvailable``); then nothing was promised.
    """
    backend = backend_from_env()  # a configuration error fails before anything is promised
    store = outbox()
    entry = await asyncio.to_thread(store.enqueue, application_id, proc.id, data, conversation_id, citizen)
    if entry.state == PENDING:
        tried = await delivery.attempt(store, backend, entry.id, announce=True, budget_s=inline_budget_s())
        if tried is None:
            # The worker holds it right now; give it a moment before answering.
            for _ in range(int(inline_budget_s() * 4)):
                await asyncio.sleep(0.25)
                tried = await asyncio.to_thread(store.get, entry.id)
                if tried.state != PENDING:
                    break
        entry = tried or entry
        if entry.state != PENDING:
            # The reply about to be sent tells the outcome; the worker must not repeat it.
            await asyncio.to_thread(store.mark_announced, entry.id)
    return SubmitOutcome(entry.state, entry)


# --------------------------------------------------------------------------- announce


def _name_outside_catalogue(procedure_id: str) -> str:
    """Applications that are no catalogue procedure: the call-back request (issue 19)."""
    return callback.procedure().name if callback.is_callback(procedure_id) else procedure_id


class ActionAnnounceSubmissions(Action):
    """Run by Rasa on ``EXTERNAL_submission_update`` (sent by the delivery worker): tells the
    outcome of every application of this conversation that has not been told yet."""

    def name(self) -> str:
        return "action_announce_submissions"

    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        store = outbox()
        entries = await asyncio.to_thread(store.for_conversation, tracker.sender_id)
        events: list[EventType] = []
        catalogue = default_catalogue()
        for entry in entries:
            if entry.state == PENDING or entry.announced_at is not None:
                continue
            # Exactly one announcement per entry, even if Rasa ran this twice.
            if not await asyncio.to_thread(store.mark_announced, entry.id):
                continue
            proc = catalogue.get(entry.procedure)
            lang = form_language(tracker)
            name = form_texts.procedure_name(proc, lang) if proc else _name_outside_catalogue(entry.procedure)
            if entry.state == DELIVERED:
                dispatcher.utter_message(text=form_texts.say(lang, "receipt_delivered_later", name=name))
                messages.tell_delivered(dispatcher, name, entry.case_number, entry.citizen, lang)
                events.append(SlotSet("case_number", entry.case_number))
            elif entry.state == REJECTED and proc is not None:
                fields = (entry.rejection or {}).get("fields") or {}
                reopen = not tracker.active_loop_name and bool(fields)
                if reopen:
                    # Restore the other answers so that only the refused ones are asked again.
                    events += [SlotSet("procedure", proc.id)]
                    events += [SlotSet(f.name, entry.data.get(f.name)) for f in proc.fields if f.name not in fields]
                events += messages.fix_rejected(dispatcher, proc, fields, reopen=reopen)
        # Status changes the citizen asked to hear about (delivery_worker/status.py), told once.
        for watch in await asyncio.to_thread(store.pending_notices, tracker.sender_id):
            notice = watch.notice or {}
            if watch.case_number and await asyncio.to_thread(
                store.take_notice, watch.id, int(notice.get("count") or 0)
            ):
                messages.tell_status_change(
                    dispatcher,
                    watch.case_number,
                    str(notice.get("status") or ""),
                    notice.get("note"),
                    form_language(tracker),
                )
        return events


async def store_status_consent(conversation_id: str) -> bool:
    """The citizen agreed to status messages: for the application this conversation confirmed
    last (its outbox entry). False when there is none."""
    store = outbox()
    entries = await asyncio.to_thread(store.for_conversation, conversation_id)
    if not entries:
        return False
    await asyncio.to_thread(store.watch_status, entries[-1].id, conversation_id)
    return True


# --------------------------------------------------------------------------- status


def _own_case_numbers(entries: list[Entry]) -> list[str]:
    """Case numbers of the applications this conversation submitted (from the outbox; never
    from a slot or the message)."""
    numbers: list[str] = []
    for entry in entries:
        if entry.case_number and entry.case_number not in numbers:
            numbers.append(entry.case_number)
    return numbers


async def _account_case_numbers(tracker: Tracker) -> list[str]:
    """A logged-in citizen's applications from the backend (by bPK2), also from other chats."""
    identity, _ = login.identity_for(tracker)
    if identity is None or not identity.subject:
        return []
    try:
        applications = await PortalClient().list_applications(identity.subject)
    except (PortalUnavailable, PortalRejected):
        return []
    return [a["case_number"] for a in applications if a.get("case_number")]


def _not_here(numbers: list[str], lang: str = "de") -> str:
    """Case numbers that are not this conversation's (nor the logged-in account's)."""
    key = "status_not_here_one" if len(numbers) == 1 else "status_not_here_many"
    return f"{form_texts.say(lang, key, numbers=', '.join(numbers))} {form_texts.say(lang, 'status_not_here_why')}"


# Words without which a message asks nothing about the state of an application.
_STATUS_WORDS = re.compile(
    r"\b(?:stand|status|aktenzeichen|bearbeit\w*|eingegangen|angekommen|bleibt|erledigt|fertig|"
    r"zugestellt|verschickt|antrag\w*|ba-\d{4})",
    re.I,
)


class ActionApplicationStatus(Action):
    """ "Wie ist der Stand meines Antrags?" — the applications of this conversation and of the
    logged-in citizen; a typed Aktenzeichen picks one of them. Others are refused (see the
    module docstring)."""

    def name(self) -> str:
        return "action_application_status"

    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if tracker.active_loop_name and not _STATUS_WORDS.search(text):
            # Inside a form NLU reads "Was ist der Unterschied zwischen den beiden Arten?" as a
            # status request: a question without a word of status is about the form.
            return await ActionFormInterruption().run(dispatcher, tracker, domain)
        typed = messages.case_numbers_in(text)
        lang = form_language(tracker)
        entries = await asyncio.to_thread(outbox().for_conversation, tracker.sender_id)
        lines: list[str] = []
        if not typed:
            for entry in entries:
                if entry.state == PENDING:
                    proc = default_catalogue().get(entry.procedure)
                    name = form_texts.procedure_name(proc, lang) if proc else entry.procedure
                    lines.append(form_texts.say(lang, "status_pending_line", name=name))
        allowed = _own_case_numbers(entries)
        if not typed or any(n not in allowed for n in typed):
            allowed += [n for n in await _account_case_numbers(tracker) if n not in allowed]
        refused = [n for n in typed if n not in allowed]
        if refused:
            logger.info("status refused for %d case number(s) not of this conversation", len(refused))
        numbers = [n for n in typed if n in allowed] if typed else allowed
        if not numbers and refused:
            dispatcher.utter_message(text=_not_here(refused, lang))
            return []
        if not numbers and not lines:
            dispatcher.utter_message(text=form_texts.say(lang, "status_which"))
            return []
        client = _status_source()
        found_any = False
        for number in numbers:
            try:
                found = await client.status_history(number)
            except PortalUnavailable:
                dispatcher.utter_message(text=form_texts.say(lang, "status_unavailable"))
                return []
            except PortalRejected:
                found = None
            if found is None:
                lines.append(form_texts.say(lang, "status_not_found", number=number))
                continue
            found_any = True
            lines.append(_status_line(found, lang))
        dispatcher.utter_message(text=form_texts.say(lang, "status_heading") + "\n" + "\n".join(lines))
        if refused:
            dispatcher.utter_message(text=_not_here(refused, lang))
        return [SlotSet("case_number", numbers[-1])] if found_any else []


def _status_source():
    """Where the status comes from: with FIT-Connect configured, the submission backend (its
    case ids are read from the route's signed event log), else the portal backend."""
    settings = get_settings()
    if settings.submission_backend in ("fit-connect", "fitconnect") or settings.fitconnect_procedures:
        return backend_from_env()
    return PortalClient()


def _status_line(found: dict, lang: str = "de") -> str:
    proc = default_catalogue().get(found.get("procedure"))
    name = form_texts.procedure_name(proc, lang) if proc else found.get("procedure", "")
    history = found.get("history") or []
    received = next((h for h in history if h.get("status") == "eingegangen"), None)
    current = history[-1] if history else {}
    status = messages.status_label(found.get("status"), lang)
    line = form_texts.say(lang, "status_line", name=name, case_number=found["case_number"])
    if received:
        line += form_texts.say(lang, "status_line_received", date=messages.local_date(received.get("at"), lang))
    line += f": {status}"
    if current and current is not received:
        line += " " + form_texts.say(lang, "status_line_since", date=messages.local_date(current.get("at"), lang))
    if current.get("note"):
        line += form_texts.say(lang, "status_line_note", note=current["note"])
    return line + "."


# --------------------------------------------------------------------------- withdraw


class ActionWithdrawApplication(Action):
    """ "Antrag zurückziehen": only for applications of this conversation (the chat can prove
    them with their idempotency key) and only where the catalogue allows it."""

    def name(self) -> str:
        return "action_withdraw_application"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        typed = messages.case_numbers_in(tracker.latest_message.get("text") or "")
        lang = form_language(tracker)
        entries = await asyncio.to_thread(outbox().for_conversation, tracker.sender_id)
        delivered = [e for e in entries if e.state == DELIVERED]
        if typed:
            target = next((e for e in delivered if e.case_number == typed[0]), None)
            if target is None:
                dispatcher.utter_message(text=form_texts.say(lang, "withdraw_not_here"))
                return []
        elif delivered:
            target = delivered[-1]
        else:
            pending = any(e.state == PENDING for e in entries)
            dispatcher.utter_message(text=form_texts.say(lang, "withdraw_pending" if pending else "withdraw_none"))
            return []
        proc = default_catalogue().get(target.procedure)
        name = form_texts.procedure_name(proc, lang) if proc else target.procedure
        if proc is None or not proc.withdrawable:
            office = translations.english_authority(proc) if lang == "en" else (proc.authority if proc else None)
            where = f" ({office})" if office else ""
            dispatcher.utter_message(
                text=form_texts.say(
                    lang, "withdraw_not_allowed", name=name, case_number=target.case_number, where=where
                )
            )
            return []
        dispatcher.utter_message(
            text=form_texts.say(lang, "withdraw_question", name=name, case_number=target.case_number),
            buttons=[
                {"title": form_texts.say(lang, "withdraw_button_yes"), "payload": "/affirm"},
                {"title": form_texts.say(lang, "withdraw_button_no"), "payload": "/deny"},
            ],
        )
        return [SlotSet("case_number", target.case_number), set_awaiting(Awaiting.CONFIRM_WITHDRAWAL)]


class ActionConfirmWithdrawal(Action):
    def name(self) -> str:
        return "action_confirm_withdrawal"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        case_number = tracker.get_slot("case_number")
        lang = form_language(tracker)
        entries = await asyncio.to_thread(outbox().for_conversation, tracker.sender_id)
        target = next((e for e in entries if e.case_number and e.case_number == case_number), None)
        if target is None:
            dispatcher.utter_message(text=form_texts.say(lang, "withdraw_lost"))
            return [set_awaiting(None)]
        client = PortalClient()
        try:
            await client.withdraw(case_number, idempotency_key=target.id, citizen=target.citizen)
        except PortalUnavailable:
            dispatcher.utter_message(text=form_texts.say(lang, "withdraw_unavailable"))
            return [set_awaiting(None)]
        except PortalRejected as exc:
            # A retried request may have withdrawn it already: check before saying no.
            current = await client.status_history(case_number)
            if not (exc.error == "status_final" and current and current["status"] == "zurueckgezogen"):
                # The portal's reason is German: only the German text quotes it.
                dispatcher.utter_message(
                    text=form_texts.say(lang, "withdraw_refused", case_number=case_number, reason=exc.message)
                )
                return [set_awaiting(None)]
        dispatcher.utter_message(text=form_texts.say(lang, "withdraw_done", case_number=case_number))
        dispatcher.utter_message(response="utter_anything_else")
        return [set_awaiting(None)]
