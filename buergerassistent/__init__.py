"""The assistant's domain: catalogue, discovery, forms and validation, identity, submission,
storage, signing, privacy. Never imports Rasa or rasa-sdk (checked by import-linter, see
``pyproject.toml``); the Rasa-facing code in ``actions/`` and ``rasa_runtime/`` and the services
(``portal_backend``, ``login_service``, ``delivery_worker``) build on it."""
