"""Bot messages for messengers: one channel-neutral rendering for Telegram, Threema and Matrix.

Rasa hands a channel its bot messages as the REST channel returns them: ``text`` (markdown links
``[title](url)`` and ``**bold**``), ``buttons`` (``title``, ``payload``; a payload that is an
``https://`` address is a link, e.g. the login), and ``custom`` (our actions: ``{"type":
"summary", "title", "rows": [{label, value}]}`` and ``{"type": "case_number", "case_number"}``).
A messenger has no such widget, so :func:`render_message` turns one message into

* ``plain``: text for clients without formatting (links as "title: address", numbered options),
* ``html``: the same with ``<b>``/``<a href>`` (everything else escaped) for Matrix
  ``formatted_body`` and Telegram's ``parse_mode=HTML`` (``line_break="\\n"`` there),
* ``options``: the buttons with a number each; the citizen answers with the digit, an ordinal
  ("die zweite") or the title's words: :func:`match_option` gives back the payload to send,
* ``links``: buttons that open a web page (a messenger shows them as links or URL buttons),
* ``files``: documents to send as files where the messenger can (the PDF receipt).

Links: the channel neutralises the message first (``rasa_runtime/channels/outbound.py:
neutralise_message``, the allow-list of every channel) and passes ``link_allowed`` (the same
allow-list); a link this predicate refuses is shown as its title only, never as an address.
No Rasa here: pure functions over dicts.
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from buergerassistent.conversation_context import Option as _ChoiceOption
from buergerassistent.conversation_context import match_choice

# Said under numbered options (a channel may say more: ``options_hint``).
OPTIONS_HINT = "Antworten Sie mit der Nummer oder dem Text."
# At most this many options are numbered (a longer list would not be read anyway).
MAX_OPTIONS = 20
# The receipt route of the portal backend (buergerassistent/submission/receipts.py).
_RECEIPT_PATH = re.compile(r"/receipts/[^/?#\s]+$")
_MD_LINK = re.compile(r"\[(?P<title>[^\]\n]{0,500})\]\((?P<url>[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?P<inner>[^*\n]+?)\*\*")
_URL_PAYLOAD = re.compile(r"(?i)^\s*https?://")


@dataclass(frozen=True)
class Option:
    """One button the citizen can choose by typing ``number`` or the words of ``title``."""

    number: int
    title: str
    payload: str


@dataclass(frozen=True)
class Link:
    """A button that opens a web page (login), shown as a link / URL button."""

    title: str
    url: str


@dataclass(frozen=True)
class FileRef:
    """A document to send as a file where the messenger can (``kind`` "receipt": the PDF
    receipt at ``url``, a signed link of the portal backend)."""

    title: str
    url: str
    kind: str = "receipt"
    filename: str = "Eingangsbestaetigung.pdf"
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class RenderedMessage:
    plain: str
    html: str
    options: list[Option] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    files: list[FileRef] = field(default_factory=list)
    case_number: Optional[str] = None


def _allow_none(_url: str) -> bool:
    return False


def _is_receipt(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0]
    return bool(_RECEIPT_PATH.search(path))


def _inline(text: str, link_allowed: Callable[[str], bool], files: list[FileRef]) -> tuple[str, str]:
    """One piece of message text as (plain, html): links and bold rendered, the rest escaped."""
    plain_parts: list[str] = []
    html_parts: list[str] = []
    pos = 0
    for m in _MD_LINK.finditer(text):
        before = text[pos : m.start()]
        plain_parts.append(_bold_plain(before))
        html_parts.append(_bold_html(before))
        title, url = m.group("title").strip(), m.group("url")
        if link_allowed(url):
            plain_parts.append(f"{title}: {url}" if title else url)
            html_parts.append(f'<a href="{_html.escape(url, quote=True)}">{_html.escape(title or url)}</a>')
            if _is_receipt(url):
                files.append(FileRef(title=title or "Eingangsbestätigung", url=url))
        else:
            plain_parts.append(_bold_plain(title))
            html_parts.append(_bold_html(title))
        pos = m.end()
    rest = text[pos:]
    plain_parts.append(_bold_plain(rest))
    html_parts.append(_bold_html(rest))
    return "".join(plain_parts), "".join(html_parts)


def _bold_plain(text: str) -> str:
    return _BOLD.sub(lambda m: m.group("inner"), text)


def _bold_html(text: str) -> str:
    out, pos = [], 0
    for m in _BOLD.finditer(text):
        out.append(_html.escape(text[pos : m.start()], quote=False))
        out.append(f"<b>{_html.escape(m.group('inner'), quote=False)}</b>")
        pos = m.end()
    out.append(_html.escape(text[pos:], quote=False))
    return "".join(out)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    raw = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in raw if isinstance(b, dict)] if isinstance(raw, list) else []


def render_message(
    message: dict[str, Any],
    link_allowed: Callable[[str], bool] = _allow_none,
    *,
    numbered: bool = True,
    line_break: str = "<br>",
    options_hint: Optional[Callable[[Sequence[Option]], str]] = None,
) -> RenderedMessage:
    """One bot message (REST shape) for a messenger; see the module docstring.

    ``numbered``: list the options in ``plain``/``html`` ("1. Ja") – False for messengers that
    show them as buttons (Telegram's inline keyboard). ``line_break``: how ``html`` breaks lines
    (Matrix ``<br>``, Telegram a newline). ``options_hint``: the line under numbered options
    (default ``OPTIONS_HINT``; Matrix adds its reactions)."""
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
    files: list[FileRef] = []
    plain_lines: list[str] = []
    html_lines: list[str] = []
    case_number = None

    if custom.get("type") == "summary" and isinstance(custom.get("rows"), list):
        heading = (text or str(custom.get("title") or "")).split("\n")[0]
        p, h = _inline(heading, link_allowed, files)
        plain_lines.append(p)
        html_lines.append(f"<b>{h}</b>")
        for row in custom["rows"]:
            if not isinstance(row, dict):
                continue
            label, value = str(row.get("label") or ""), str(row.get("value") or "")
            plain_lines.append(f"- {label}: {value}")
            html_lines.append(f"{_html.escape(label, quote=False)}: <b>{_html.escape(value, quote=False)}</b>")
    elif text:
        for line in text.split("\n"):
            p, h = _inline(line, link_allowed, files)
            plain_lines.append(p)
            html_lines.append(h)

    if custom.get("type") == "case_number" and isinstance(custom.get("case_number"), str):
        case_number = custom["case_number"]
        escaped = _html.escape(case_number, quote=False)
        if any(escaped in h for h in html_lines):
            html_lines = [h.replace(escaped, f"<b>{escaped}</b>") for h in html_lines]
        else:
            plain_lines.append(f"Aktenzeichen: {case_number}")
            html_lines.append(f"Aktenzeichen: <b>{escaped}</b>")

    options: list[Option] = []
    links: list[Link] = []
    for button in _buttons(message):
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or button.get("url") or "").strip()
        if not payload and not title:
            continue
        if _URL_PAYLOAD.match(payload):
            if link_allowed(payload):
                links.append(Link(title=title or payload, url=payload))
            continue  # a link to a foreign host: no button at all (as in the web chat)
        if len(options) < MAX_OPTIONS:
            options.append(Option(number=len(options) + 1, title=title or payload, payload=payload or title))

    for link in links:
        plain_lines.append(f"{link.title}: {link.url}")
        html_lines.append(f'<a href="{_html.escape(link.url, quote=True)}">{_html.escape(link.title)}</a>')
    if numbered and options:
        for o in options:
            plain_lines.append(f"{o.number}. {o.title}")
            html_lines.append(f"{o.number}. {_html.escape(o.title, quote=False)}")
        hint = options_hint(options) if options_hint else OPTIONS_HINT
        plain_lines.append(hint)
        html_lines.append(f"<i>{hint}</i>")

    return RenderedMessage(
        plain="\n".join(plain_lines).strip("\n"),
        html=line_break.join(html_lines).strip(),
        options=options,
        links=links,
        files=files,
        case_number=case_number,
    )


def render_messages(
    messages: Iterable[dict[str, Any]],
    link_allowed: Callable[[str], bool] = _allow_none,
    *,
    numbered: bool = True,
    line_break: str = "<br>",
    options_hint: Optional[Callable[[Sequence[Option]], str]] = None,
) -> list[RenderedMessage]:
    """Every message with something to show (a message with neither text, custom nor buttons
    – e.g. an empty one – is left out)."""
    out = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        rendered = render_message(
            message, link_allowed, numbered=numbered, line_break=line_break, options_hint=options_hint
        )
        if rendered.plain or rendered.options or rendered.links or rendered.files:
            out.append(rendered)
    return out


def last_options(rendered: Sequence[RenderedMessage]) -> list[Option]:
    """The options a reply answers: those of the last message that had any."""
    for message in reversed(rendered):
        if message.options:
            return list(message.options)
    return []


_DIGIT = re.compile(r"^\s*(?:(?:nr|nummer|option)\.?\s*)?(\d{1,2})\s*[.)]?\s*$", re.I)
_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\wäöüß ]+", re.I)


def _plain_words(text: str) -> str:
    return _SPACES.sub(" ", _PUNCT.sub(" ", text.casefold())).strip()


def match_option(text: Any, options: Sequence[Option]) -> Optional[str]:
    """The payload of the option a reply chooses, or None (then the text goes to the assistant
    as typed): "2", "2.", "Nr. 2", "die zweite", "das letzte", the exact title, or words that
    name one title only (``conversation_context.match_choice``, as for offered procedures)."""
    if not options or not isinstance(text, str) or not text.strip():
        return None
    m = _DIGIT.match(text)
    if m:
        number = int(m.group(1))
        return next((o.payload for o in options if o.number == number), None)
    said = _plain_words(text)
    for o in options:
        if said and said == _plain_words(o.title):
            return o.payload
    choice = match_choice(text, [_ChoiceOption(value=str(o.number), title=o.title) for o in options])
    if choice is None:
        return None
    return next((o.payload for o in options if str(o.number) == choice), None)
