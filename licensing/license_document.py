"""The licence document: a PDF with what the licence covers and a QR code of its verification page.

ReportLab draws the page and segno computes the QR code's modules, which are
drawn as vector squares: pure Python, nothing from the system.
"""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

import segno
from django.utils import timezone
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from licensing.models import Application, License

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def qr_drawing(data: str, size: float) -> Drawing:
    """`data` as a QR code `size` points wide, one vector square per dark module."""
    code = segno.make(data, error="m", micro=False)
    rows = list(code.matrix)
    module = size / (len(rows) + 2 * QUIET_ZONE)
    drawing = Drawing(size, size)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                drawing.add(
                    Rect(
                        (x + QUIET_ZONE) * module,
                        size - (y + QUIET_ZONE + 1) * module,
                        module,
                        module,
                        fillColor=colors.black,
                        strokeColor=None,
                    )
                )
    return drawing


def _party(application: Application, party: str) -> str:
    name = getattr(application, f"{party}_name")
    if not name:
        return "-"
    country = getattr(application, f"{party}_country")
    parts = [name, getattr(application, f"{party}_address"), country.name if country else ""]
    kind = getattr(application, f"get_{party}_type_display")()
    return ", ".join(part for part in parts if part) + (f" ({kind})" if kind else "")


def _other_parties(application: Application) -> list[tuple[str, str]]:
    """Every other party (intermediate consignees, ultimate end users, third parties), each
    a row as the end user's: its kind, then its name, address, country and type."""
    if not application.other_party_count:
        return []
    return [
        (
            party.get_kind_display(),
            ", ".join(part for part in (party.name, party.address, party.country.name) if part)
            + f" ({party.get_type_display()})",
        )
        for party in application.other_parties.select_related("country")
    ]


def license_pdf(license: License, *, verification_url: str) -> bytes:
    """The document of `license` (its goods, application and organisation loaded).

    One A4 page of sections, top to bottom: the facts (number, holder, parties,
    validity), the goods, the conditions, and the verification code with the time it
    was printed.
    """
    styles = getSampleStyleSheet()
    out = BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Export license {license.number}",
        author="Export licensing",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    document.build(
        [
            *_facts(license, styles),
            *_goods(license, styles),
            *_conditions(license, styles),
            *_verification(verification_url, styles),
        ]
    )
    return out.getvalue()


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    """`value` as a paragraph: escaped, its line breaks kept."""
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def _facts(license: License, styles: StyleSheet1) -> list[Flowable]:
    """The title and the facts table: what the licence is, whose, for whom, and until when."""
    application = license.application
    body = styles["BodyText"]
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
        ]
    )
    facts = [
        ("License number", license.number),
        ("License type", license.get_license_type_display()),
        ("Holder", license.organisation.name),
        ("Application", application.reference),
        ("Destination", f"{license.destination.name} ({license.destination_id})"),
        ("End user", _party(application, "end_user")),
        ("Consignee", _party(application, "consignee")),
        *_other_parties(application),
        ("Valid", f"{license.valid_from:%d %B %Y} to {license.valid_until:%d %B %Y}"),
        ("Status", license.get_status_display()),
    ]
    return [
        Paragraph(f"Export license {escape(license.number)}", styles["Title"]),
        Table(
            [[_text(label, body), _text(value, body)] for label, value in facts],
            colWidths=[40 * mm, None],
            style=grid,
        ),
        Spacer(1, 5 * mm),
    ]


def _goods(license: License, styles: StyleSheet1) -> list[Flowable]:
    """The goods the licence covers, one numbered row each, with quantity and value."""
    body = styles["BodyText"]
    goods = [[_text(h, body) for h in ("#", "Description", "Control entry", "Quantity", "Value")]]
    goods += [
        [
            _text(str(i), body),
            _text(good.description, body),
            _text(good.control_list_entry.code, body),
            _text(str(good.quantity), body),
            _text(f"{good.value:,.2f} {good.currency}", body),
        ]
        for i, good in enumerate(license.goods.all(), start=1)
    ]
    goods_style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    return [
        Paragraph("Goods", styles["Heading2"]),
        Table(goods, colWidths=[10 * mm, None, 28 * mm, 22 * mm, 36 * mm], style=goods_style),
        Spacer(1, 5 * mm),
    ]


def _conditions(license: License, styles: StyleSheet1) -> list[Flowable]:
    """The conditions the ministries attached, or "None."."""
    return [
        Paragraph("Conditions", styles["Heading2"]),
        _text(license.conditions or "None.", styles["BodyText"]),
        Spacer(1, 8 * mm),
    ]


def _verification(verification_url: str, styles: StyleSheet1) -> list[Flowable]:
    """The QR code of the verification page beside its address, and when it was printed."""
    return [
        Table(
            [
                [
                    qr_drawing(verification_url, 34 * mm),
                    _text(
                        "Scan the code, or open the address below, to check whether this "
                        f"license is valid today:\n{verification_url}",
                        styles["BodyText"],
                    ),
                ]
            ],
            colWidths=[38 * mm, None],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
        ),
        Spacer(1, 4 * mm),
        _text(f"Printed {timezone.localtime():%d %B %Y %H:%M %Z}.", styles["Italic"]),
    ]
