"""A local double of the Telegram Bot API, for tests only (Telegram cannot be reached here).

It implements the methods our channel and its tests call, following the published Bot API
(https://core.telegram.org/bots/api): ``https://<server>/bot<token>/<method>``, parameters as
JSON, form or multipart data, answers ``{"ok": true, "result": …}`` or ``{"ok": false,
"error_code": 400|401, "description": …}``. Checked as Telegram checks them: the token; text of
1-4096 characters; ``parse_mode=HTML`` with only the tags Telegram supports (b, strong, i, em, u,
ins, s, strike, del, a href, code, pre, tg-spoiler, span class=tg-spoiler, blockquote) and
balanced; inline keyboards whose buttons have exactly one of ``callback_data`` (1-64 bytes) and
``url``; ``answerCallbackQuery`` only for a callback query id it issued; ``sendDocument`` with an
uploaded file. Methods: getMe, setWebhook, sendMessage, answerCallbackQuery, sendDocument.

It records every call (``calls``) and plays Telegram's side of the webhook: ``send_text``,
``send_sticker``, ``press`` post updates with increasing ``update_id`` to the webhook with the
secret header given to ``setWebhook`` (or ``webhook``/``secret`` set directly).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Optional

from aiohttp import web

from support.served_app import ServedApp

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
}


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: Optional[str] = None

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = f"Unsupported start tag \"{tag}\""
        elif tag == "a" and not dict(attrs).get("href"):
            self.error = "a tag without href"
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.error = f"Can't find end tag corresponding to start tag \"{tag}\""


def html_error(text: str) -> Optional[str]:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        return "unclosed tag"
    return parser.error


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


class BotApiDouble(ServedApp):
    def __init__(self, token: str, host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port = 0
        self.calls: list[Call] = []
        self.webhook: Optional[str] = None
        self.secret: Optional[str] = None
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._callback_ids: set[str] = set()
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    # --------------------------------------------------------------- server
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    # --------------------------------------------------------------- API
    @staticmethod
    def _fail(code: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            return dict(await request.json()), files
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type.startswith("multipart/"):
                reader = await request.multipart()
                async for part in reader:
                    if part.filename:
                        files[part.name] = await part.read()
                    else:
                        params[part.name] = await part.text()
            else:
                params.update(await request.post())
        for key in ("reply_markup",):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params, files

    def _message(self, chat_id: Any, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": {"id": 1, "is_bot": True, "first_name": "Bürgerassistent"},
            **extra,
        }

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._fail(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        with self._lock:
            self.calls.append(Call(method, params, files))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._fail(404, "Not Found: method not found")
        return handler(params, files)

    def _m_getMe(self, params, files):  # noqa: N802 - Bot API method names
        return web.json_response(
            {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Bürgerassistent", "username": "ba_bot"}}
        )

    def _m_setWebhook(self, params, files):  # noqa: N802
        self.webhook, self.secret = params.get("url"), params.get("secret_token")
        return web.json_response({"ok": True, "result": True, "description": "Webhook was set"})

    def _m_sendMessage(self, params, files):  # noqa: N802
        text = str(params.get("text") or "")
        if "chat_id" not in params:
            return self._fail(400, "Bad Request: chat_id is empty")
        if not text.strip():
            return self._fail(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._fail(400, "Bad Request: message is too long")
        if params.get("parse_mode") == "HTML":
            error = html_error(text)
            if error:
                return self._fail(400, f"Bad Request: can't parse entities: {error}")
        markup = params.get("reply_markup")
        if markup:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    kinds = [k for k in ("callback_data", "url") if button.get(k)]
                    if len(kinds) != 1 or not button.get("text"):
                        return self._fail(400, "Bad Request: can't parse inline keyboard button")
                    if "callback_data" in kinds and not 1 <= len(button["callback_data"].encode()) <= 64:
                        return self._fail(400, "Bad Request: BUTTON_DATA_INVALID")
        return web.json_response({"ok": True, "result": self._message(params["chat_id"], text=text)})

    def _m_answerCallbackQuery(self, params, files):  # noqa: N802
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_ids:
            return self._fail(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._callback_ids.discard(query_id)
        return web.json_response({"ok": True, "result": True})

    def _m_sendDocument(self, params, files):  # noqa: N802
        if "document" not in files and not params.get("document"):
            return self._fail(400, "Bad Request: there is no document in the request")
        doc = {
            "file_id": f"doc{len(self.calls)}",
            "file_name": "document",
            "file_size": len(files.get("document", b"")),
        }
        return web.json_response({"ok": True, "result": self._message(params["chat_id"], document=doc)})

    # --------------------------------------------------------------- Telegram's side of the webhook
    def post_update(self, update: dict[str, Any], secret: Optional[str] = "default", timeout: float = 120) -> int:
        """POST one update to the webhook; returns the HTTP status."""
        header = self.secret if secret == "default" else secret
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = header
        request = urllib.request.Request(self.webhook, data=json.dumps(update).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def update(self, chat_id: int, **message: Any) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": message.pop("chat_type", "private")},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Erika"},
                **message,
            },
        }

    def send_text(self, chat_id: int, text: str) -> int:
        return self.post_update(self.update(chat_id, text=text))

    def send_sticker(self, chat_id: int) -> int:
        sticker = {"file_id": "s1", "file_unique_id": "s1", "width": 512, "height": 512, "is_animated": False}
        return self.post_update(self.update(chat_id, sticker=sticker))

    def callback_update(self, chat_id: int, data: str) -> dict[str, Any]:
        query_id = f"cq{next(self._update_ids)}"
        self._callback_ids.add(query_id)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": {"id": chat_id, "is_bot": False, "first_name": "Erika"},
                "chat_instance": "ci",
                "data": data,
                "message": self._message(chat_id, text="…"),
            },
        }

    def press(self, chat_id: int, data: str) -> int:
        return self.post_update(self.callback_update(chat_id, data))

    # --------------------------------------------------------------- what the bot sent
    def sent(self, chat_id: int) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method in ("sendMessage", "sendDocument") and str(c.params.get("chat_id")) == str(chat_id)
            ]

    def buttons(self, call: Call) -> list[dict[str, Any]]:
        markup = call.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]
