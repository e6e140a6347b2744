"""Rasa input and output channels: the web chat (socket.io with signed sessions), the REST channel
(development and tests, with a token), and what every channel shares: the typed-payload guard,
login-code confirmation, the link allow-list and the handling of malformed requests."""
