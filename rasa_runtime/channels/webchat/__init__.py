"""Web chat channel: socket.io with Rasa's protocol, server-issued signed sessions.

Registered in ``bot/credentials.yml`` as ``rasa_runtime.channels.webchat.channel.WebChatInput``; the widget
that talks to it lives in ``webchat/widget``.
"""
