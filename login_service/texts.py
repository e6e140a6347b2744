"""What the login pages say, in the conversation's language (issue 20): German, or English or
Leichte Sprache when the chat's login link carries ``lang: en`` or ``lang: ls``
(``buergerassistent.identity.login_url``). The texts
are data: keys ``web_login_*`` of ``catalogue/translations/<language>/messages.yaml``; the German
reasons a login is refused are ``identity.MESSAGES``, their English ``web_login_rejected_<reason>``.
"""

from __future__ import annotations

from buergerassistent import translations
from buergerassistent.identity import PAGE_LANGUAGES, LoginRejected


def language(value: object) -> str:
    return value if value in PAGE_LANGUAGES else PAGE_LANGUAGES[0]


def html_lang(value: object) -> str:
    """The page's ``lang`` attribute: Leichte Sprache is German."""
    lang = language(value)
    return "de" if lang == "ls" else lang


def say(lang: str, key: str, **values: str) -> str:
    return translations.message(language(lang), f"web_login_{key}", **values)


def refusal(exc: LoginRejected, lang: str) -> str:
    """Why the login was refused, in ``lang`` (German: the identity module's own sentence)."""
    if language(lang) == PAGE_LANGUAGES[0]:
        return exc.message
    try:
        return translations.message(language(lang), f"web_login_rejected_{exc.reason}")
    except KeyError:
        return exc.message
