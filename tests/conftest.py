"""Root of the test suite. Its presence puts ``tests/`` on the import path, so every test package
can use the shared helper modules here (``tracker_fixtures``, ``db_fixtures``)."""
