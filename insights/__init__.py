"""The insights service (issue 22): reads Rasa's events from RabbitMQ, stores masked facts and
figures (``buergerassistent/insights.py``) and serves the staff dashboard. See docs/insights.md."""
