"""Rasa input channel for the web chat: socket.io with Rasa's protocol, but safe sessions.

Protocol (as Rasa's socket.io channel, so third-party Rasa widgets work):
  client ``session_request`` {session_id}  ->  server ``session_confirm`` {session_id}
  client ``user_uttered`` {message, metadata|customData}  ->  server ``bot_uttered`` {text, quick_replies, …}
Differences that make it safe:
  * the session id is a token the server signed; a missing, forged, expired or revoked one gets a
    fresh conversation, never someone else's;
  * the conversation a message belongs to is the one bound to the socket, not a field the client
    sends with each message;
  * every socket of a conversation (tabs, reconnects, other replicas via Redis) is in one room,
    so output produced outside a request (``get_output_channel``) reaches the user.
Extra events for our widget (others ignore them): ``history``, ``bot_typing``, ``user_echo``,
``session_delete`` / ``session_deleted``, ``login_code`` (the one-time code of a completed login,
see ``rasa_runtime/channels/login_confirmation.py``).

Resends (issue 18): a message sent while its replica stops would be lost, socket.io has no
message id. Our widget gives each message an id (``message_id``, 1 to 64 of ``A-Z a-z 0-9 _ -``)
and asks for an acknowledgement (socket.io ack). The ack is sent when the turn has ended: Rasa
has saved it (or the citizen got a notice instead). A message without an ack when the socket
drops is sent again, with the same id, once the new socket (maybe on another replica) has its
history. The id reaches Rasa as ``UserMessage.message_id`` (rasa_runtime/idempotency.py): a turn
that was saved is answered from the saved turn, marked ``repeated``, not processed again; a turn
that was not saved is processed as the first copy would have been. Bot messages of a turn carry
``reply_to`` (the id), user messages in ``history`` and ``user_echo`` their ``id``, so the widget
shows each message and each answer once. The ack goes back over the socket that sent the
message, on the replica that ran the turn: no Redis fan-out is involved. Clients without an id
or without an ack are served as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text
from urllib.parse import unquote

import socketio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_runtime import idempotency
from rasa_runtime.channels.http_errors import install_bad_request_handler
from rasa_runtime.channels import login_confirmation
from buergerassistent import privacy
from rasa_runtime.channels import outbound
from buergerassistent import starter_topics, uploads
from rasa_runtime.channels.redis_guard import RedisGuard
from rasa_runtime.channels.webchat import conversations
from rasa_runtime.channels.webchat.fanout import BoundedRedisManager
from rasa_runtime.channels.webchat.limits import RateLimiter
from rasa_runtime.channels.webchat.sessions import Session, SessionIssuer
from rasa_runtime.channels.webchat.settings import WebChatSettings
from rasa_runtime.outage import OUTAGE_TEXT, StoreUnavailable

logger = logging.getLogger(__name__)

TOO_LONG = "Ihre Nachricht ist zu lang. Bitte schreiben Sie höchstens {limit} Zeichen auf einmal."
TOO_FAST = "Sie haben sehr viele Nachrichten kurz hintereinander geschickt. Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."
FAILED = "Entschuldigung, da ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal."
UPLOAD_RECEIVED = "Ihr Dokument „{name}“ ({size}) ist angekommen und wird nur für Ihr Anliegen gespeichert."
MAX_UPLOADS = "Sie haben schon {limit} Dokumente hochgeladen. Mehr kann ich in diesem Gespräch nicht annehmen."
TOO_MANY_FROM_CLIENT = (
    "Von Ihrem Anschluss kamen in kurzer Zeit sehr viele Dokumente. Bitte versuchen Sie es später noch einmal."
)
# Acknowledgements of ``user_uttered`` (socket.io ack): the turn has ended, the client need not
# send the message again; or the message was refused (a bad id) and sending it again is useless.
ACK_DONE = {"status": "done"}
ACK_INVALID_ID = {"status": "refused", "error": "invalid_message_id"}
ACK_IGNORED = {"status": "refused", "error": "invalid_message"}
# Client metadata Rasa may see: only what the widget needs, never arbitrary keys.
_METADATA_KEYS = {conversations.DISPLAY_KEY: 200, "lang": 8}


def _refusal(status: int, message: str) -> HTTPResponse:
    return response.json({"error": "upload_refused", "message": message}, status=status)


def _client_address(request: Request) -> str:
    """The client's address: from the proxy header only when Sanic is configured to trust it
    (``remote_addr``, e.g. SANIC_PROXIES_COUNT), else the peer."""
    return request.remote_addr or request.ip or "unknown"


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"


def _accept_portal_login(conversation_id: str, token: str) -> str:
    from buergerassistent import identity

    try:
        ident = identity.accept_portal_token(conversation_id, token)
    except identity.LoginRejected as exc:
        return exc.message
    return identity.greeting(ident)


def _clean_metadata(data: dict) -> dict:
    raw = data.get("metadata") or data.get("customData") or {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if k in _METADATA_KEYS and isinstance(v, str) and len(v) <= _METADATA_KEYS[k]}


class SocketBlueprint(Blueprint):
    """Attaches the socket.io server to the Sanic app Rasa registers the channel on."""

    def __init__(self, channel: "WebChatInput", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.channel = channel

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        channel = self.ctx.channel
        channel.app = app
        install_bad_request_handler(app)
        channel.sio.attach(app, channel.socketio_path)
        super().register(app, options)


class WebChatOutput(OutputChannel):
    """Sends to the room of a conversation: every tab and every replica's socket of that user."""

    @classmethod
    def name(cls) -> Text:
        return WebChatInput.name()

    def __init__(
        self,
        sio: socketio.AsyncServer,
        bot_message_evt: Text = "bot_uttered",
        link_hosts: Optional[frozenset] = None,
        reply_to: Optional[str] = None,
    ) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt
        self.link_hosts = outbound.allowed_hosts() if link_hosts is None else link_hosts
        # The client's id of the message this output answers (``reply_to`` in each bot message).
        self.reply_to = reply_to
        self.repeating = False

    async def _send(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        # Links only to allowed hosts (rasa_runtime/channels/outbound.py); others become plain text.
        message = outbound.neutralise_message(message, self.link_hosts)
        if self.reply_to:
            message = {**message, "reply_to": self.reply_to}
            if self.repeating:
                message["repeated"] = True
        await self.sio.emit(self.bot_message_evt, message, room=recipient_id)

    async def send_saved_responses(self, recipient_id: Text, replies: List[Dict[Text, Any]]) -> None:
        """The saved answer of a turn whose message was sent again (rasa_runtime/idempotency.py),
        marked ``repeated``: a tab that has shown the first answer does not show it twice."""
        self.repeating = True
        try:
            for reply in replies:
                await self.send_response(recipient_id, reply)
        finally:
            self.repeating = False

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        # One bot message = one bot_uttered, structured part (``custom``: summary table, case
        # number) included; Rasa's default would send ``custom`` as a second, text-less message.
        if message.get("custom") and (message.get("text") or message.get("buttons") or message.get("quick_replies")):
            await self._send(recipient_id, conversations.bot_message(message.get("text"), message))
            return
        await super().send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, conversations.bot_message(text, {"lang": conversations.text_language(kwargs)}))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(
            recipient_id,
            conversations.bot_message(text, {"buttons": buttons, "lang": conversations.text_language(kwargs)}),
        )

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"src": image}}})

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        await self._send(recipient_id, {"attachment": attachment})

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any) -> None:
        for element in elements:
            payload = {"template_type": "generic", "elements": element}
            await self._send(recipient_id, {"attachment": {"type": "template", "payload": payload}})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send(recipient_id, {"custom": json_message})


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        socketio_path: Text = "/socket.io",
        settings: Optional[WebChatSettings] = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.settings = settings or WebChatSettings()
        self.app: Optional[Sanic] = None
        # Hosts bot messages may link to (rasa_runtime/channels/outbound.py); told to the widget too.
        self.link_hosts = outbound.allowed_hosts()
        # Bounded waits: a Redis that hangs must not hold a citizen's message (issue 18). One
        # guard for all three users of Redis: after a timeout none of them waits again for a while.
        redis = self.settings.redis_client()
        guard = RedisGuard()
        manager = None
        if self.settings.redis_url:
            # The fan-out to other replicas' sockets; this replica's own sockets are served first
            # and without Redis (python-socketio emits locally, then publishes; a failed publish
            # is logged and dropped), so a citizen whose socket is here gets every answer.
            manager = BoundedRedisManager(self.settings.redis_url, self.settings.redis_channel, guard)
        self.sessions = SessionIssuer(self.settings.session_ttl, redis, privacy.default_revocations(), guard=guard)
        self.limiter = RateLimiter(*self.settings.rate_limit, redis=redis, guard=guard)
        self.sio = socketio.AsyncServer(
            async_mode="sanic",
            client_manager=manager,
            cors_allowed_origins=lambda origin, _environ=None: self.settings.origin_allowed(origin),
            # Messages are small; uploads use HTTP. Bounds what one packet can make us parse.
            max_http_buffer_size=64 * 1024,
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Used by Rasa for messages produced outside a request (``output_channel=latest``)."""
        return WebChatOutput(self.sio, self.bot_message_evt, self.link_hosts)

    @property
    def agent(self):
        return self.app.ctx.agent if self.app is not None else None

    # --- sessions -----------------------------------------------------------------------------
    async def _bind(self, sid: str, session: Session) -> None:
        old = (await self.sio.get_session(sid)).get("conversation_id")
        if old and old != session.conversation_id:
            await self.sio.leave_room(sid, old)
        await self.sio.save_session(sid, {"conversation_id": session.conversation_id})
        await self.sio.enter_room(sid, session.conversation_id)
        # conversation_id lets a portal page sign a login hand-over for exactly this chat
        # (``portal_identity``); it grants nothing by itself.
        await self.sio.emit(
            "session_confirm",
            {
                "session_id": session.token,
                "conversation_id": session.conversation_id,
                **login_confirmation.widget_info(),
                # The widget draws links only to these hosts (a second check after ours).
                "link_hosts": sorted(self.link_hosts),
                # Buttons on the greeting (catalogue/starter_topics.yaml); each sends its text.
                "starter_topics": starter_topics.as_buttons(),
            },
            to=sid,
        )

    async def _conversation_of(self, sid: str) -> str:
        conversation_id = (await self.sio.get_session(sid)).get("conversation_id")
        if conversation_id and not await self.sessions.is_revoked(conversation_id):
            return conversation_id
        # A client that never asked for a session (or whose chat was deleted) gets a fresh one.
        session = self.sessions.new()
        await self._bind(sid, session)
        return session.conversation_id

    async def _send_history(self, sid: str, conversation_id: str) -> None:
        messages: list = []
        if self.agent is not None:
            try:
                messages = await conversations.load_history(self.agent, conversation_id, self.link_hosts)
            except Exception:  # history is a convenience; the chat must still work without it
                logger.exception("Gesprächsverlauf konnte nicht geladen werden")
        await self.sio.emit("history", {"messages": messages}, to=sid)

    async def _say(self, conversation_id: str, text: str) -> None:
        await WebChatOutput(self.sio, self.bot_message_evt, self.link_hosts)._send(conversation_id, {"text": text})

    async def _delete(self, conversation_id: str) -> None:
        await self.sessions.revoke(conversation_id)
        if self.agent is not None:
            await conversations.delete_conversation(self.agent, conversation_id)
        # Everything else we hold of it (login, drafts, outbox, uploads): buergerassistent/privacy.py.
        await asyncio.to_thread(privacy.forget_conversation, conversation_id, self.settings.upload_dir)
        await self.sio.emit("session_deleted", {}, room=conversation_id)
        await self.sio.close_room(conversation_id)

    # --- blueprint ----------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = self.sio
        bp = SocketBlueprint(self, "webchat_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: dict, auth: Any = None) -> bool:
            logger.debug("web chat socket %s connected", sid)
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            token = data.get("session_id") if isinstance(data, dict) else data
            session = await self.sessions.resume(token) if token else None
            if session is None:
                session = self.sessions.new()
            await self._bind(sid, session)
            await self._send_history(sid, session.conversation_id)

        @sio.on("portal_identity")
        async def portal_identity(sid: str, data: Any = None) -> None:
            """A portal page where the citizen is logged in hands its login to the chat: a
            token the portal signed for this conversation (buergerassistent.identity.accept_portal_token)."""
            token = data.get("token") if isinstance(data, dict) else None
            if not isinstance(token, str) or len(token) > 8192:
                return
            conversation_id = await self._conversation_of(sid)
            text = await asyncio.to_thread(_accept_portal_login, conversation_id, token)
            await self._say(conversation_id, text)

        @sio.on("login_code")
        async def login_code(sid: str, data: Any = None) -> None:
            """The widget's login window handed back the code of a completed login: redeem it for
            this socket's conversation only."""
            code = data.get("code") if isinstance(data, dict) else None
            if not isinstance(code, str) or len(code) > 32:
                return
            conversation_id = await self._conversation_of(sid)
            if not await self.limiter.allow(conversation_id):
                return
            await login_confirmation.redeem_and_continue(
                self.agent, conversation_id, code, WebChatOutput(sio, self.bot_message_evt, self.link_hosts)
            )

        @sio.on(self.user_message_evt)
        async def user_uttered(sid: str, data: Any = None) -> dict:
            """The return value is the socket.io ack (for clients that ask for one): sent once the
            turn has ended. A replica that stops in the middle sends none, and the widget sends
            the message again after it has reconnected."""
            import redis.exceptions

            try:
                return await handle_user_uttered(sid, data)
            except (redis.exceptions.RedisError, StoreUnavailable) as error:
                # A store the web chat itself uses (Redis: revocations, rate limit) failed before
                # the message reached Rasa: nothing was processed, so ask for it again (as
                # rasa_runtime/outage.py does for the tracker and lock store), never silence.
                logger.warning("Web-Chat-Nachricht nicht bearbeitet: Redis (%s)", type(error).__name__)
                await self.sio.emit(self.bot_message_evt, {"text": OUTAGE_TEXT}, to=sid)
                await self.sio.emit("bot_typing", {"typing": False}, to=sid)
                return ACK_DONE  # the citizen was asked to send it again

        async def handle_user_uttered(sid: str, data: Any = None) -> dict:
            if not isinstance(data, dict):
                return ACK_IGNORED
            text = data.get("message")
            if not isinstance(text, str) or not text.strip():
                return ACK_IGNORED
            try:
                message_id = idempotency.client_message_id(data.get("message_id"))
            except ValueError:
                # As the REST channel: a bad id is refused, the message is not processed.
                await self.sio.emit(self.bot_message_evt, {"text": idempotency.INVALID_MESSAGE_ID}, to=sid)
                return ACK_INVALID_ID
            client_id = idempotency.client_id_of(message_id)
            conversation_id = await self._conversation_of(sid)
            if len(text) > self.settings.max_message_chars:
                await self.sio.emit(
                    self.bot_message_evt, {"text": TOO_LONG.format(limit=self.settings.max_message_chars)}, to=sid
                )
                return ACK_DONE
            if not await self.limiter.allow(conversation_id):
                await self.sio.emit(self.bot_message_evt, {"text": TOO_FAST}, to=sid)
                return ACK_DONE
            output = WebChatOutput(sio, self.bot_message_evt, self.link_hosts, reply_to=client_id)
            # A typed login code is answered here; it never reaches Rasa or the tracker.
            if await login_confirmation.intercept_text(self.agent, conversation_id, text, output):
                return ACK_DONE
            metadata = _clean_metadata(data)
            # Other tabs of the same conversation show what was written here (once: a resend
            # has the same id).
            shown = metadata.get(conversations.DISPLAY_KEY, text)
            echo = {"text": shown, **({"id": client_id} if client_id else {})}
            await sio.emit("user_echo", echo, room=conversation_id, skip_sid=sid)
            await sio.emit("bot_typing", {"typing": True}, room=conversation_id)
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        output,
                        conversation_id,
                        input_channel=self.name(),
                        message_id=message_id,  # None: Rasa makes one
                        metadata=metadata,
                    )
                )
            except Exception:
                logger.exception("Nachricht im Web-Chat konnte nicht verarbeitet werden")
                await self._say(conversation_id, FAILED)
            finally:
                await sio.emit("bot_typing", {"typing": False}, room=conversation_id)
            return ACK_DONE

        @sio.on("session_delete")
        async def session_delete(sid: str, _data: Any = None) -> None:
            conversation_id = (await self.sio.get_session(sid)).get("conversation_id")
            if conversation_id:
                await self._delete(conversation_id)
                logger.info("web chat conversation deleted on request")

        @sio.on("disconnect")
        async def disconnect(sid: str, *_args: Any) -> None:
            logger.debug("web chat socket %s disconnected", sid)

        @bp.route("/upload", methods=["POST"], stream=True)
        async def upload(request: Request) -> HTTPResponse:
            return await self._upload(request)

        return bp

    def _reserve_slots(self, conversation_id: str, client: str):
        """The conversation's and the client's upload slots, or the refusal."""
        root = self.settings.upload_dir
        own = uploads.reserve_conversation_slot(root, conversation_id, self.settings.max_uploads_per_conversation)
        if own is None:
            return _refusal(409, MAX_UPLOADS.format(limit=self.settings.max_uploads_per_conversation))
        count, window = self.settings.client_upload_limit
        theirs = uploads.reserve_client_slot(root, client, count, window)
        if theirs is None:
            uploads.release(own)
            return _refusal(429, TOO_MANY_FROM_CLIENT)
        return [own, theirs]

    async def _upload(self, request: Request) -> HTTPResponse:
        refuse = _refusal
        auth = request.headers.get("authorization", "")
        session = await self.sessions.resume(auth[7:]) if auth.lower().startswith("bearer ") else None
        if session is None:
            return refuse(401, "Ihre Sitzung ist abgelaufen. Bitte laden Sie die Seite neu.")
        conversation_id = session.conversation_id
        limit = self.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return refuse(413, f"Die Datei ist zu groß. Erlaubt sind höchstens {limit // (1024 * 1024)} MB.")
        if not await self.limiter.allow(conversation_id):
            return refuse(429, TOO_FAST)
        # Quotas are reserved before reading (atomic slot files): parallel uploads cannot pass a
        # count together. A refused upload gives its slots back.
        slots = await asyncio.to_thread(self._reserve_slots, conversation_id, _client_address(request))
        if isinstance(slots, HTTPResponse):
            return slots
        try:
            # Read at most limit + 1 bytes, whatever the client declared.
            body = bytearray()
            while True:
                chunk = await request.stream.read()
                if chunk is None:
                    break
                body.extend(chunk)
                if len(body) > limit:
                    raise uploads.too_large(limit)
            stored = await asyncio.get_running_loop().run_in_executor(
                None,
                uploads.store,
                self.settings.upload_dir,
                conversation_id,
                bytes(body),
                unquote(request.headers.get("x-file-name", "")),
                limit,
            )
        except uploads.UploadRefused as exc:
            for slot in slots:
                uploads.release(slot)
            return refuse(exc.status, str(exc))
        except BaseException:
            for slot in slots:
                uploads.release(slot)
            raise
        note = UPLOAD_RECEIVED.format(name=stored.name, size=_size_text(stored.size))
        if self.agent is not None:
            await conversations.append_bot_note(self.agent, conversation_id, note)
        await self._say(conversation_id, note)
        return response.json({"name": stored.name, "size": stored.size, "media_type": stored.media_type}, status=201)
