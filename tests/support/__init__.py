"""What the test packages share: credentials of the portal backend (``portal_auth``), databases
(``databases``), trackers for running actions without Rasa (``trackers``), filled forms
(``forms``), the whole stack on free ports (``stacks``), chat clients (``chat``), and the
personal data and log check of the security tests (``security``).

``tests/conftest.py`` puts ``tests/`` on the import path (pytest's rootdir conftest), so every
test imports these as ``support.<module>``.
"""
