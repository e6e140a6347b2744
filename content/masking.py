"""The masking of personal data lives in the domain (``buergerassistent/masking.py``), because the
insights service (``insights/``) needs it too and may import only the domain; this name stays for
the content tools and their tests."""

from buergerassistent.masking import (  # noqa: F401
    FILL,
    PERSONAL_TYPES,
    fill_placeholders,
    first_names,
    mask,
    placeholder_for,
)
