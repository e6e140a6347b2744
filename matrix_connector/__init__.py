"""Matrix connector (``python -m matrix_connector``): the assistant's bot account on a Matrix
homeserver (BundesMessenger, Element). Syncs, decrypts (E2EE with keys persisted in
``$MATRIX_STORE_DIR``), accepts direct-chat invites, renders the assistant's answers
(``buergerassistent.messenger_format``) and uploads the PDF receipt; hands each citizen message
to Rasa's Matrix channel (``rasa_runtime/channels/matrix``). Imports only the domain.
See docs/messengers.md."""
