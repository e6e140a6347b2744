"""Threema input channel (``rasa_runtime.channels.threema.channel.ThreemaChannel``)."""
