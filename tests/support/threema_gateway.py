"""A local double of the Threema Gateway (end-to-end mode), for tests only: Threema's servers
cannot be reached from here.

It follows the documented Gateway HTTP API (https://gateway.threema.ch/en/developer/api):

* ``GET /pubkeys/{id}?from=&secret=`` → the public key of an ID (hex), 401 for a wrong secret,
  404 for an unknown ID;
* ``POST /send_e2e`` (form: ``from``, ``to``, ``nonce``, ``box``, ``secret``) → 200 and a
  16-hex-digit message id; 401 for a wrong secret, 400 for a bad ``to``/nonce/box. The box is
  **decrypted with the real library** (``threema.gateway.e2e.Message.receive`` with the
  recipient's private key and the sender's public key), so a reply not encrypted to the
  citizen's key fails here;
* the callback to the gateway's customer: ``send_text(citizen, text)`` encrypts a text message
  from a citizen's ID to the Gateway ID with the library and POSTs ``from, to, messageId, date,
  nonce, box, mac, nickname`` form-encoded, ``mac`` = HMAC-SHA256 with the API secret.

Citizens are ``Citizen`` objects (ID + key pair); what the gateway delivered to each is in
``received[citizen_id]`` (decrypted text).
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import hmac
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Optional

from aiohttp import web
from threema.gateway import Connection, e2e
from threema.gateway.key import Key

from support.served_app import ServedApp


@dataclass
class Citizen:
    threema_id: str
    private: Any = None
    public: Any = None

    def __post_init__(self) -> None:
        if self.private is None:
            self.private, self.public = Key.generate_pair()


@dataclass
class Gateway:
    """The gateway customer: its ID, API secret and key pair (private key goes to the channel)."""

    gateway_id: str = "*BUERGER"
    secret: str = field(default_factory=lambda: secrets.token_hex(8))
    private: Any = None
    public: Any = None

    def __post_init__(self) -> None:
        if self.private is None:
            self.private, self.public = Key.generate_pair()

    @property
    def private_key(self) -> str:
        return Key.encode(self.private)


def callback_mac(secret: str, fields: dict[str, str]) -> str:
    """As the gateway documents it: HMAC-SHA256(from‖to‖messageId‖date‖nonce‖box, API secret), hex
    (written here on its own, not taken from the channel under test)."""
    message = "".join(fields[k] for k in ("from", "to", "messageId", "date", "nonce", "box")).encode("ascii")
    return hmac.new(self_secret(secret), message, hashlib.sha256).hexdigest()


def self_secret(secret: str) -> bytes:
    return secret.encode("ascii")


class _KnownKeys(Connection):
    """A library connection of the citizen's app: public keys and blobs from the double's tables
    instead of the network."""

    def __init__(self, identity: str, private: Any, keys: dict[str, Any], blobs: Optional[dict] = None) -> None:
        super().__init__(identity, "unused", key=Key.encode(private))
        self._keys = keys
        self._blobs = blobs or {}

    async def get_public_key(self, id_):  # noqa: D401 - same contract as Connection.get_public_key
        return self._keys[id_]

    async def download(self, blob_id):
        data = self._blobs[blob_id]

        class _Body:
            async def read(self_inner):
                return data

        return _Body()


class GatewayDouble(ServedApp):
    def __init__(self, gateway: Optional[Gateway] = None, host: str = "127.0.0.1") -> None:
        self.gateway = gateway or Gateway()
        self.host = host
        self.port = 0
        self.callback_url: Optional[str] = None
        self.citizens: dict[str, Citizen] = {}
        self.received: dict[str, list[str]] = {}
        self.files: dict[str, list[tuple[str, str, bytes]]] = {}  # citizen → (name, mime type, content)
        self.blobs: dict[str, bytes] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._runner: Optional[web.AppRunner] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def citizen(self, threema_id: str) -> Citizen:
        if threema_id not in self.citizens:
            self.citizens[threema_id] = Citizen(threema_id)
            self.received.setdefault(threema_id, [])
        return self.citizens[threema_id]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _keys(self) -> dict[str, Any]:
        return {
            self.gateway.gateway_id: self.gateway.public,
            **{c.threema_id: c.public for c in self.citizens.values()},
        }

    # --------------------------------------------------------------- server
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/pubkeys/{id}", self._pubkey)
        app.router.add_post("/send_e2e", self._send_e2e)
        app.router.add_get("/capabilities/{id}", self._capabilities)
        app.router.add_post("/upload_blob", self._upload_blob)
        return app

    def _authorised(self, params) -> bool:
        return params.get("from") == self.gateway.gateway_id and hmac.compare_digest(
            str(params.get("secret") or "").encode(), self.gateway.secret.encode()
        )

    async def _pubkey(self, request: web.Request) -> web.Response:
        with self._lock:
            self.requests.append(("pubkeys", dict(request.query)))
        if not self._authorised(request.query):
            return web.Response(status=401)
        key = self._keys().get(request.match_info["id"])
        if key is None:
            return web.Response(status=404)
        return web.Response(text=binascii.hexlify(key.pk).decode())

    async def _capabilities(self, request: web.Request) -> web.Response:
        if not self._authorised(request.query):
            return web.Response(status=401)
        if request.match_info["id"] not in self.citizens:
            return web.Response(status=404)
        return web.Response(text="text,image,video,audio,file")

    async def _upload_blob(self, request: web.Request) -> web.Response:
        """Documented: multipart field ``blob`` (already encrypted by the sender), ``from`` and
        ``secret`` in the query; answers the blob id (32 hex digits)."""
        if not self._authorised(request.query):
            return web.Response(status=401)
        reader = await request.multipart()
        part = await reader.next()
        if part is None or part.name != "blob":
            return web.Response(status=400)
        data = await part.read()
        if not data:
            return web.Response(status=400)
        blob_id = secrets.token_hex(16)
        with self._lock:
            self.blobs[blob_id] = data
        return web.Response(text=blob_id)

    async def _send_e2e(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        with self._lock:
            self.requests.append(("send_e2e", {k: v for k, v in form.items() if k != "secret"}))
        if not self._authorised(form):
            return web.Response(status=401)
        citizen = self.citizens.get(str(form.get("to") or ""))
        if citizen is None:
            return web.Response(status=400)
        try:
            nonce, box = binascii.unhexlify(form["nonce"]), binascii.unhexlify(form["box"])
            connection = _KnownKeys(citizen.threema_id, citizen.private, self._keys(), self.blobs)
            try:
                parameters = {"from_id": self.gateway.gateway_id, "message_id": b"\0" * 8, "date": time.time()}
                message = await e2e.Message.receive(connection, parameters, nonce, box)
            finally:
                await connection.close()
        except Exception:  # noqa: BLE001 - not decryptable for the citizen: refused as Threema would
            return web.Response(status=400)
        with self._lock:
            if getattr(message, "type", None) == e2e.Message.Type.file_message:
                self.files.setdefault(citizen.threema_id, []).append(
                    (message._file_name, message.mime_type, message.file_content)
                )
                self.received[citizen.threema_id].append(f"<Datei {message._file_name}>")
            else:
                self.received[citizen.threema_id].append(getattr(message, "text", f"<{type(message).__name__}>"))
        return web.Response(text=secrets.token_hex(8))

    # --------------------------------------------------------------- a citizen writes
    async def encrypted_callback(self, citizen_id: str, text: str, message_id: Optional[str] = None) -> dict[str, str]:
        """The form fields of the gateway's callback for a text from ``citizen_id`` (encrypted
        with the library to the Gateway ID's public key, MAC'd with the API secret)."""
        return await self._callback_fields(
            citizen_id,
            lambda conn: e2e.TextMessage(conn, to_id=self.gateway.gateway_id, key=self.gateway.public, text=text),
            message_id,
        )

    async def _callback_fields(self, citizen_id: str, make, message_id: Optional[str] = None) -> dict[str, str]:
        citizen = self.citizen(citizen_id)
        connection = _KnownKeys(citizen.threema_id, citizen.private, self._keys())
        try:
            nonce, box = await make(connection).send(get_data_only=True)
        finally:
            await connection.close()
        fields = {
            "from": citizen.threema_id,
            "to": self.gateway.gateway_id,
            "messageId": message_id or secrets.token_hex(8),
            "date": str(int(time.time())),
            "nonce": binascii.hexlify(nonce).decode(),
            "box": binascii.hexlify(box).decode(),
        }
        fields["mac"] = callback_mac(self.gateway.secret, fields)
        fields["nickname"] = "Erika"
        return fields

    async def image_callback(self, citizen_id: str) -> dict[str, str]:
        """A non-text message (a delivery receipt would be ignored; an image must be answered):
        built with the library's DeliveryReceipt/ImageMessage types where they need no blob."""
        return await self._callback_fields(
            citizen_id,
            lambda conn: _RawMessage(conn, to_id=self.gateway.gateway_id, key=self.gateway.public),
        )

    def post_callback(self, fields: dict[str, str], timeout: float = 120) -> int:
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(
            self.callback_url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def send_text(self, citizen_id: str, text: str) -> int:
        """A citizen's text through the gateway to the channel (from a synchronous test)."""
        fields = asyncio.run_coroutine_threadsafe(self.encrypted_callback(citizen_id, text), self._loop).result(30)
        return self.post_callback(fields)

    def texts(self, citizen_id: str) -> list[str]:
        with self._lock:
            return list(self.received.get(citizen_id, []))


class _RawMessage(e2e.Message):
    """A location message (type 0x10) as a Threema app sends it: text "lat,lon" – not a text
    message, the assistant must answer that it reads text only."""

    def __init__(self, connection, **kwargs):
        super().__init__(connection, e2e.Message.Type.text_message, **kwargs)
        self._type_value = 0x10

    async def pack(self, writer):
        writer.writeexactly(b"48.137,11.575")

    async def send(self, get_data_only=False):
        import struct

        from threema.gateway.util import ViewIOWriter, randint

        writer = ViewIOWriter()
        writer.writeexactly(struct.pack("<B", self._type_value))
        await self.pack(writer)
        padding = max(randint(1, 255), 32 - (len(writer) - 1))
        writer.writeexactly(bytes([padding] * padding))
        return await self.encrypt(writer.getvalue())

    @classmethod
    async def unpack(cls, connection, parameters, key_pair, reader):  # pragma: no cover - never received here
        raise NotImplementedError
