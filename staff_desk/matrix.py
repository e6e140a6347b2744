"""The agent desk on Matrix: a bot account (mautrix, client-server API) that posts to the queue
room, creates a private room per taken case (invites the member of staff) and hands every
message in those rooms to the desk. Staff use any Matrix client (Element).

Unencrypted rooms: the desk bot keeps no crypto store (end-to-end encryption of the staff
rooms is a follow-up; the homeserver should be the authority's own)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional

from mautrix.client import Client
from mautrix.types import EventType, MessageEvent, RoomCreatePreset, StrippedStateEvent, UserID

logger = logging.getLogger(__name__)


class MatrixRooms:
    def __init__(self, homeserver: str, user: str, token: str, queue_room: str) -> None:
        self.client = Client(mxid=UserID(user), base_url=homeserver, token=token)
        self.client.ignore_initial_sync = True  # commands from before the start are not replayed
        self.client.ignore_first_sync = True
        self.queue_room = queue_room
        self.me = user
        self._sync: Optional[Any] = None

    async def send(self, room_id: str, text: str) -> None:
        await self.client.send_text(room_id, text)

    async def private_room(self, name: str, member: str) -> str:
        return await self.client.create_room(
            name=name, invitees=[UserID(member)], preset=RoomCreatePreset.PRIVATE, is_direct=False
        )

    async def start(self, on_message: Callable[[str, str, str], Any]) -> None:
        """Join the queue room, then sync and pass every text message to ``on_message``."""
        await self.client.whoami()
        await self.client.join_room(self.queue_room)

        async def handle(event: MessageEvent) -> None:
            body = getattr(event.content, "body", None)
            if isinstance(body, str):
                await on_message(str(event.room_id), str(event.sender), body)

        async def invited(event: StrippedStateEvent) -> None:
            # Only the queue room is joined on an invitation; case rooms the bot creates itself.
            if str(event.room_id) == self.queue_room and event.state_key == self.me:
                await self.client.join_room(event.room_id)

        self.client.add_event_handler(EventType.ROOM_MESSAGE, handle)
        self.client.add_event_handler(EventType.ROOM_MEMBER, invited)
        self._sync = self.client.start(None)

    async def stop(self) -> None:
        self.client.stop()
        await self.client.api.session.close()
