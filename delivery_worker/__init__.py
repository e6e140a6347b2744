"""The submission delivery worker: a process of its own (``python -m delivery_worker``) that
delivers the outbox (``buergerassistent.submission``) and tells open conversations."""
