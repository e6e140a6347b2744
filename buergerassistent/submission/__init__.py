"""Submission of confirmed applications: exactly once, whatever fails in between.

* ``outbox``: the transactional outbox (SQLAlchemy). A confirmed application is committed here
  BEFORE any network call; its id is the idempotency key the backend deduplicates on.
* ``backends``: the adapter interface to the system that receives applications (reference
  portal backend today; a real portal backend or FIT-Connect by configuration).
* ``delivery``: one delivery attempt for one outbox entry (claim with a lease, send, record).
* ``worker``: the delivery worker (its own process, ``python -m delivery_worker``, started
  by ``bot/stack.py``): retries with backoff, then tells the open conversation via Rasa's HTTP
  API.
* ``receipts``: signed, expiring links to the PDF Eingangsbestätigung.
* ``chat_actions``: the Rasa custom actions for status, withdrawal and announcements.
"""
