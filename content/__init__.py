"""Tools for the content team: lints (``python -m content.lint``), evaluation and report
(``python -m content.evaluate``), the review inbox of real conversations
(``python -m content.review``) and the quick model reload (``python -m bot reload``).

See docs/redaktion.md for the editors' workflow. This package must not be named ``catalogue``
(spaCy's dependency of that name would be shadowed).
"""
