"""The staff desk (issue 19): conversations handed over by the assistant appear in Matrix, where
staff answer with an ordinary client (Element). ``python -m staff_desk``.

* ``desk.py`` – what happens: open a case, queue or forward the citizen's messages, take a case,
  pass staff replies to the citizen, hand back, time out, call-back requests; audit of every access.
* ``matrix.py`` – the one adapter to the agent desk: a Matrix bot account (mautrix), a shared queue
  room without personal data, one private room per case with the member of staff who took it.
* ``rasa_api.py`` – reaches the citizen's conversation through Rasa's HTTP API
  (``trigger_intent``, ``RASA_API_TOKEN``), so staff messages land in the tracker and in the
  citizen's channel (web chat, messengers) like every other bot message.
* ``app.py`` – the HTTP API for the action server (Bearer ``STAFF_DESK_TOKEN``):
  ``POST /cases``, ``POST /cases/{case_id}/messages``, ``GET /health``.

Imports only the domain (``buergerassistent``).
"""
