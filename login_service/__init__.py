"""Login through the citizen's service account (BundID/BayernID over SAML 2.0, OIDC via a broker).

A small aiohttp service of its own (``python -m login_service``, started by ``bot/stack.py``),
not a Rasa input channel: xmlsec1 runs for every request and response and must not stall
the chat's event loop, the keys and personal data stay out of the Rasa process, and the routes
can be tested without a trained model. See ``app.py`` for the routes, ``settings.py`` for the
environment, ``buergerassistent/identity.py`` for the server-side identity store they share with the
action server.
"""
