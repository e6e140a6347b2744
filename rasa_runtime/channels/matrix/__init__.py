"""Rasa's side of the Matrix channel (conversations ``mx-…``); the Matrix side is ``matrix_connector``."""
