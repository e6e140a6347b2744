"""The reference portal backend: receives applications submitted from the chat.

An aiohttp service with SQLAlchemy storage; the API is described in ``openapi.yaml``.
Start it with ``python -m portal_backend --host 127.0.0.1 --port 8080``.
"""

from portal_backend.app import create_app

__all__ = ["create_app"]
