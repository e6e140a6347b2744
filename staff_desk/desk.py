"""What the staff desk does, independent of the chat system staff use (``matrix.py`` adapts it).

A case is opened by the action server (``POST /cases``) and announced in the queue room without
personal data. A member of staff listed in ``STAFF_MATRIX_AGENTS`` takes it with
``!übernehmen H-…``: only then is a private room created for them with the full context card and
the messages the citizen wrote while waiting; the access is written to the audit table. Their
messages in that room go to the citizen; ``!zurück`` hands the conversation back. A case nobody
takes within ``HANDOFF_QUEUE_TIMEOUT_S`` is closed and the citizen is told (and offered a
call-back). Call-back requests are applications in the portal backend; the queue room gets their
case number (Aktenzeichen), and ``!rückruf BA-…`` shows one to the member of staff in a private
room, read from the portal backend with the authority's token (audited too).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any, Optional, Protocol

from buergerassistent import handoff
from buergerassistent.handoff import callback
from buergerassistent.handoff import card as cards
from buergerassistent.handoff.office_hours import BERLIN
from buergerassistent.handoff.store import Case, HandoffStore
from buergerassistent.submission.outbox import DELIVERED, Outbox
from staff_desk.portal import AuthorityPortal, PortalUnreachable

logger = logging.getLogger(__name__)

TAKE = ("!übernehmen", "!uebernehmen", "!take")
BACK = ("!zurück", "!zurueck", "!back")
CALLBACK = ("!rückruf", "!rueckruf", "!callback")
NOT_OPEN = (
    "Dieser Fall ist nicht mehr offen: Er wurde zurückgegeben, beendet oder von der Person gelöscht. "
    "Ihre Nachricht wurde nicht zugestellt."
)


class Rooms(Protocol):
    """The agent desk's rooms (``matrix.MatrixRooms``)."""

    queue_room: str

    async def send(self, room_id: str, text: str) -> None: ...

    async def private_room(self, name: str, member: str) -> str: ...


class Conversations(Protocol):
    async def trigger(self, conversation_id: str, intent: str, entities: Optional[dict[str, str]] = None) -> bool: ...


class Desk:
    def __init__(
        self,
        store: HandoffStore,
        rooms: Rooms,
        conversations: Conversations,
        agents: set[str],
        timeout_s: float,
        me: str = "",
        portal: Optional[AuthorityPortal] = None,
        outbox: Optional[Outbox] = None,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.conversations = conversations
        self.agents = agents
        self.timeout_s = timeout_s
        self.me = me
        self.portal = portal  # reads call-back requests with the authority's token
        self.outbox = outbox  # where a call-back request's case number arrives when sent later

    # -- from the action server ---------------------------------------------------------------
    async def open_case(self, conversation_id: str, card: dict[str, Any]) -> Case:
        case = await asyncio.to_thread(self.store.open_case, conversation_id, card)
        if case.state == "waiting" and not case.queued:
            await self.rooms.send(self.rooms.queue_room, cards.render_queue(case.case_id, case.card))
        logger.info("case %s opened", case.case_id)
        return case

    async def citizen_message(self, case_id: str, text: str) -> str:
        """``forwarded`` (to the member of staff), ``queued`` (nobody has taken it yet) or ``closed``."""
        case = await asyncio.to_thread(self.store.get, case_id)
        if case is None or case.state not in ("waiting", "active"):
            return "closed"
        if case.state == "waiting":
            await asyncio.to_thread(self.store.queue_message, case_id, text)
            return "queued"
        await self.rooms.send(case.room_id, f"Bürgerin/Bürger: {text}")
        return "forwarded"

    async def close_for_conversation(self, conversation_id: str) -> Optional[str]:
        """The citizen left the handoff (e.g. "Gespräch löschen"): close the open case."""
        case = await asyncio.to_thread(self.store.open_case_of, conversation_id)
        if case is None:
            return None
        await asyncio.to_thread(self.store.close, case.case_id)
        room = case.room_id or self.rooms.queue_room
        await self.rooms.send(room, f"Fall {case.case_id}: Die Person hat das Gespräch beendet.")
        return case.case_id

    # -- from the agent desk ------------------------------------------------------------------
    async def on_message(self, room_id: str, sender: str, body: str) -> None:
        if sender == self.me or not body:
            return
        words = body.strip().split()
        command = words[0].lower() if words else ""
        if room_id == self.rooms.queue_room:
            if command in TAKE or command in CALLBACK:
                if sender not in self.agents:
                    await self.rooms.send(room_id, "Nur freigeschaltete Mitarbeitende können Fälle übernehmen.")
                    return
                if len(words) < 2:
                    await self.rooms.send(room_id, f"Bitte mit Nummer: {command} H-… (Fall) oder BA-… (Rückrufbitte)")
                    return
                if command in TAKE:
                    await self.take(words[1].upper(), sender)
                else:
                    await self.show_callback(words[1].upper(), sender)
            return
        case = await asyncio.to_thread(self.store.case_in_room, room_id)
        if case is None:
            if sender in self.agents:
                # Handed back, closed, or deleted by the citizen ("Gespräch löschen"): never drop
                # a reply silently, or staff believe the citizen read it.
                await self.rooms.send(room_id, NOT_OPEN)
            return
        if sender != case.agent:
            return
        if command in BACK:
            await self.hand_back(case, sender)
            return
        await asyncio.to_thread(self.store.log_access, sender, case.conversation_id, case.case_id, "reply")
        if not await self.conversations.trigger(
            case.conversation_id, handoff.STAFF_MESSAGE_INTENT, {handoff.TEXT_ENTITY: body.strip()}
        ):
            await self.rooms.send(room_id, "Die Nachricht kam nicht an: Der Assistent ist gerade nicht erreichbar.")

    async def take(self, case_id: str, agent: str) -> bool:
        case = await asyncio.to_thread(self.store.get, case_id)
        if case is None or case.state != "waiting":
            await self.rooms.send(self.rooms.queue_room, f"Fall {case_id} ist nicht (mehr) offen.")
            return False
        room_id = await self.rooms.private_room(f"Fall {case_id}", agent)
        if not await asyncio.to_thread(self.store.take, case_id, agent, room_id):
            await self.rooms.send(room_id, f"Fall {case_id} hat inzwischen jemand anderes übernommen.")
            return False
        # Staff see the conversation from here on: log it before showing it.
        await asyncio.to_thread(self.store.log_access, agent, case.conversation_id, case_id, "take")
        await self.rooms.send(room_id, cards.render_case(case_id, case.card))
        for text in case.queued:
            await self.rooms.send(room_id, f"Bürgerin/Bürger (in der Wartezeit): {text}")
        await self.rooms.send(self.rooms.queue_room, f"Fall {case_id} ist übernommen.")
        await self.conversations.trigger(case.conversation_id, handoff.TAKEN_INTENT)
        logger.info("case %s taken", case_id)
        return True

    async def hand_back(self, case: Case, agent: str) -> None:
        await asyncio.to_thread(self.store.close, case.case_id)
        await asyncio.to_thread(self.store.log_access, agent, case.conversation_id, case.case_id, "hand_back")
        await self.conversations.trigger(case.conversation_id, handoff.END_INTENT)
        await self.rooms.send(case.room_id, f"Fall {case.case_id} ist an den Assistenten zurückgegeben.")
        logger.info("case %s handed back", case.case_id)

    async def expire(self, now: Optional[float] = None) -> list[str]:
        """Close the cases nobody took in time and tell the citizens."""
        now = time.time() if now is None else now
        expired = []
        for case in await asyncio.to_thread(self.store.waiting_since, now - self.timeout_s):
            if not await asyncio.to_thread(self.store.close, case.case_id, "timed_out"):
                continue
            expired.append(case.case_id)
            entities = {handoff.TEXT_ENTITY: "\n".join(case.queued)} if case.queued else {}
            await self.conversations.trigger(case.conversation_id, handoff.TIMEOUT_INTENT, entities)
            await self.rooms.send(self.rooms.queue_room, f"Fall {case.case_id}: niemand frei, Zeit abgelaufen.")
        return expired

    async def announce_callbacks(self) -> None:
        """New call-back requests by their case number (no personal data in the queue room). A
        request the delivery worker sent later gets its case number from the outbox."""
        for notice in await asyncio.to_thread(self.store.callback_notices, True):
            case_number = notice.case_number
            if not case_number and self.outbox is not None:
                entry = await asyncio.to_thread(self.outbox.get, notice.application_id)
                if entry is not None and entry.state == DELIVERED and entry.case_number:
                    case_number = entry.case_number
                    await asyncio.to_thread(self.store.note_callback, notice.application_id, None, None, case_number)
            if not case_number:
                continue  # not delivered yet
            topic = f" zu „{notice.procedure}“" if notice.procedure else ""
            await self.rooms.send(
                self.rooms.queue_room, f"Neue Rückrufbitte {case_number}{topic}. Anzeigen: !rückruf {case_number}"
            )
            await asyncio.to_thread(self.store.mark_announced, notice.application_id)

    async def show_callback(self, case_number: str, agent: str) -> None:
        """The call-back request from the portal backend, in a private room of ``agent``."""
        notice = await asyncio.to_thread(self.store.callback_by_case_number, case_number)
        if notice is None:
            await self.rooms.send(self.rooms.queue_room, f"Rückrufbitte {case_number} gibt es nicht.")
            return
        if self.portal is None:
            await self.rooms.send(
                self.rooms.queue_room, "Rückrufbitten kann ich nicht anzeigen: PORTAL_AUTHORITY_TOKEN fehlt."
            )
            return
        await asyncio.to_thread(self.store.log_access, agent, notice.conversation_id or "", case_number, "read")
        try:
            application = await self.portal.application(case_number)
        except PortalUnreachable:
            await self.rooms.send(
                self.rooms.queue_room, f"Rückrufbitte {case_number}: Das Portal ist gerade nicht erreichbar."
            )
            return
        if application is None or application.get("procedure") != callback.PROCEDURE_ID:
            await self.rooms.send(self.rooms.queue_room, f"Rückrufbitte {case_number} gibt es nicht.")
            return
        data = application.get("data") or {}
        labels = {f.name: f.label for f in callback.procedure().fields}
        lines = [f"Rückrufbitte {case_number} vom {_local_time(application.get('received_at'))}"]
        for name in ("callback_name", "callback_contact", "callback_topic", callback.PROCEDURE_FIELD):
            if data.get(name):
                lines.append(f"{labels[name]}: {data[name]}")
        room_id = await self.rooms.private_room(f"Rückrufbitte {case_number}", agent)
        await self.rooms.send(room_id, "\n".join(lines))

    async def housekeeping(self, interval: float = 2.0) -> None:
        while True:
            try:
                await self.expire()
                await self.announce_callbacks()
            except Exception:  # the loop must survive a database or network hiccup
                logger.exception("staff desk housekeeping failed")
            await asyncio.sleep(interval)


def _local_time(iso: Optional[str]) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso or "?")
    return moment.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
