"""The Eingangsbestätigung as PDF (fpdf2): procedure, date of receipt, submitted data, case number.

In the conversation's language (issue 20): German, or English or Leichte Sprache when the
chat's receipt link says ``lang: en`` or ``lang: ls``. The texts are data (keys ``pdf_receipt_*`` of
``catalogue/translations/<language>/messages.yaml``); labels, values, the procedure's name and
the status in English come from the form texts (``buergerassistent/form_texts.py``). The
submitted values themselves never change.

The text font is DejaVu Sans (Debian package ``fonts-dejavu-core``) so that every name a citizen
can type prints correctly; without it we fall back to Helvetica and replace characters outside
Latin-1 with "?" rather than fail.
"""

from __future__ import annotations

import re
from datetime import timezone
from typing import Optional

from fpdf import FPDF

from buergerassistent import form_texts, translations
from buergerassistent.catalogue import Procedure
from buergerassistent.settings import get_settings
from portal_backend.db import STATUS_LABELS, Application

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


LANGUAGES = ("de", "en", "ls")  # ls: Leichte Sprache (German labels and values, plain sentences)


def language(value: object) -> str:
    return value if value in LANGUAGES else LANGUAGES[0]


def _t(lang: str, key: str, **values: str) -> str:
    return translations.message(lang, f"pdf_receipt_{key}", **values)


def filename(case_number: str, lang: str = "de") -> str:
    return f"{_t(language(lang), 'file')}-{case_number}.pdf"


def _display(value: Optional[str], proc: Optional[Procedure], name: str, lang: str = "de") -> str:
    if value is None or value == "":
        return "—"
    if lang == "en" and proc is not None:
        try:
            return form_texts.display(proc, proc.field(name), value, lang)
        except KeyError:
            pass
    if proc is not None:
        try:
            field = proc.field(name)
        except KeyError:
            field = None
        if field is not None and field.choices:
            for choice in field.choices:
                if choice.value == value:
                    return choice.label
    match = _ISO_DATE.match(value)
    if match:
        year, month, day = match.groups()
        return f"{day}.{month}.{year}"
    return value


def _label(proc: Optional[Procedure], name: str, lang: str = "de") -> str:
    if proc is not None:
        try:
            field = proc.field(name)
        except KeyError:
            return name
        return form_texts.field_text(proc, field, lang).label if lang == "en" else field.label
    return name


class _Receipt(FPDF):
    def __init__(self, lang: str = "de") -> None:
        super().__init__(format="A4")
        self.lang = lang
        font_dir = get_settings().receipt_font_dir
        regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            self.add_font("Text", "", str(regular))
            self.add_font("Text", "B", str(bold))
            self.family = "Text"
            self.unicode = True
        else:
            self.family = "Helvetica"
            self.unicode = False
        self.set_auto_page_break(auto=True, margin=20)

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        text = text.replace("„", '"').replace("“", '"').replace("—", "-")
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(self.family, "", 8)
        self.cell(0, 10, self.clean(_t(self.lang, "page", n=str(self.page_no()))), align="C")


def render(application: Application, proc: Optional[Procedure], lang: str = "de") -> bytes:
    lang = language(lang)
    pdf = _Receipt(lang)
    pdf.set_title(f"{_t(lang, 'title')} {application.case_number}")
    pdf.set_creator("Bürgerassistent – Referenz-Portal-Backend")
    pdf.set_lang("de" if lang == "ls" else lang)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(pdf.family, "B", 16)
    pdf.multi_cell(width, 9, pdf.clean(_t(lang, "title")), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    received = application.received_at.astimezone(timezone.utc)
    when = (
        received.strftime("%d.%m.%Y, %H:%M Uhr (UTC)")
        if lang != "en"
        else f"{received.day} {received:%B %Y}, {received:%H:%M} (UTC)"
    )
    status = STATUS_LABELS.get(application.status, application.status)
    if lang in ("en", "ls") and application.status in STATUS_LABELS:
        status = form_texts.say(lang, f"status_{application.status}")
    facts = [
        (_t(lang, "case_number"), application.case_number),
        (_t(lang, "procedure"), form_texts.procedure_name(proc, lang) if proc else application.procedure),
        (_t(lang, "received"), when),
        (_t(lang, "status"), status),
    ]
    if proc is not None and proc.authority:
        office = translations.english_authority(proc) if lang == "en" else proc.authority
        facts.append((_t(lang, "authority"), office))
    for label, value in facts:
        pdf.set_font(pdf.family, "B", 11)
        pdf.cell(45, 7, pdf.clean(label + ":"))
        pdf.set_font(pdf.family, "", 11)
        pdf.multi_cell(width - 45, 7, pdf.clean(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font(pdf.family, "B", 12)
    pdf.multi_cell(width, 8, pdf.clean(_t(lang, "your_data")), new_x="LMARGIN", new_y="NEXT")
    names = [f.name for f in proc.fields] if proc is not None else []
    names += [n for n in application.data if n not in names]
    for name in names:
        if name not in application.data:
            continue
        pdf.set_font(pdf.family, "B", 10)
        pdf.cell(60, 6, pdf.clean(_label(proc, name, lang) + ":"))
        pdf.set_font(pdf.family, "", 10)
        value = _display(application.data.get(name), proc, name, lang)
        pdf.multi_cell(width - 60, 6, pdf.clean(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font(pdf.family, "", 9)
    pdf.multi_cell(width, 5, pdf.clean(_t(lang, "note")), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
