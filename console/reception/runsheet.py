"""The run sheet: a printable document of a run — items, due times, department, status, who — with signature lines.

Two forms: print-styled HTML (always; every stored text is escaped) and a PDF with a CJK font (fpdf2 with
Noto Sans CJK SC from Debian's fonts-noto-cjk; None when either is missing).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlmodel import Session

from console.audit import query
from console.i18n import department_label, get_language, t
from console.permissions import Actor
from console.reception.common import followup_label, status_label
from console.reception.runs import ItemRow, RunView, get_run
from console.timeutil import local_datetime

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
SIGNATURES = ("Host", "Security Department", "Reception supervisor")
COLGROUP = "<colgroup>" + "".join(f"<col style='width:{w}%'>" for w in (5, 39, 11, 11, 12, 9, 8, 5)) + "</colgroup>"


@dataclass
class RunSheet:
    filename: str
    html: str
    pdf: bytes | None


def _fmt(value: dt.datetime | None) -> str:
    return "" if value is None else local_datetime(value).strftime("%Y-%m-%d %H:%M")


def _txt(row: ItemRow, name: str) -> str:
    return str(getattr(row, f"{name}_zh" if get_language() == "zh" else f"{name}_en") or getattr(row, f"{name}_en"))


def _status(row: ItemRow) -> str:
    label = status_label(row.state)
    if row.state == "na" and row.na_reason:
        label += f" — {row.na_reason}"
    if row.state == "failed" and row.followup is not None:
        label += " — " + followup_label(row.followup.status)
    return label


def _headline(view: RunView) -> list[tuple[str, str]]:
    return [
        (t("Guest"), view.guest),
        (t("Level"), f"L{view.level}"),
        (t("Arrival"), _fmt(view.arrival_at)),
        (t("Departure"), _fmt(view.departure_at)),
        (t("Host"), view.host or ""),
        (t("Templates"), view.templates),
        (t("Status"), status_label(view.status)),
        (t("Readiness"), "—" if view.readiness is None else f"{view.readiness:.0%}"),
    ]


def _groups(view: RunView) -> list[tuple[str, list[ItemRow]]]:
    groups: dict[tuple[str, str], list[ItemRow]] = {}
    for row in view.items:
        groups.setdefault((row.template_code, row.phase), []).append(row)
    return [(f"{code} · {phase} · {_txt(rows[0], 'phase')}", rows) for (code, phase), rows in groups.items()]


def run_sheet_html(view: RunView, printed_at: dt.datetime) -> str:
    """Print-styled HTML; every stored value passes through html.escape."""
    e = html.escape
    head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _headline(view))
    cols = [t("#"), t("Item"), t("Department"), t("Due"), t("Status"), t("Who"), t("When"), t("Initials")]
    body = []
    for title, rows in _groups(view):
        body.append(f"<h2>{e(title)}</h2><table class='items'>{COLGROUP}<thead><tr>")
        body.append("".join(f"<th>{e(c)}</th>" for c in cols) + "</tr></thead><tbody>")
        for r in rows:
            flags = (" ★" if r.critical else "") + ("" if r.required else f" ({e(t('optional'))})")
            body.append(
                "<tr>"
                f"<td>{r.seq}</td><td>{e(_txt(r, 'text'))}{flags}</td><td>{e(department_label(r.department))}</td>"
                f"<td>{e(_fmt(r.due_at))}</td><td>{e(_status(r))}</td><td>{e(r.done_by or '')}</td>"
                f"<td>{e(_fmt(r.done_at))}</td><td class='sign'></td></tr>"
            )
        body.append("</tbody></table>")
    signatures = "".join(
        f"<div class='sig'><div class='line'></div>{e(t(role))} · {e(t('Signature and date'))}</div>"
        for role in SIGNATURES
    )
    title = t("Run sheet")
    return f"""<!DOCTYPE html>
<html lang="{e(get_language())}"><head><meta charset="utf-8"><title>{e(title)} #{view.run_id}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 11pt; margin: 16mm; color: #111; }}
h1 {{ font-size: 16pt; margin: 0 0 6pt; }} h2 {{ font-size: 12pt; margin: 14pt 0 4pt; }}
table {{ border-collapse: collapse; width: 100%; }} table.items {{ table-layout: fixed; }}
th, td {{ border: 1px solid #999; padding: 3pt 5pt; vertical-align: top; text-align: left; }}
table.head th {{ width: 22%; background: #f2f2f2; }} table.items th {{ background: #f2f2f2; }}
td.sign {{ width: 14mm; }} .sigs {{ display: flex; gap: 12mm; margin-top: 18mm; }}
.sig {{ flex: 1; font-size: 9pt; }} .line {{ border-bottom: 1px solid #000; height: 14mm; margin-bottom: 3pt; }}
.foot {{ font-size: 8pt; color: #555; margin-top: 8mm; }}
@media print {{ body {{ margin: 10mm; }} h2 {{ page-break-after: avoid; }} tr {{ page-break-inside: avoid; }} }}
</style></head><body>
<h1>{e(title)} #{view.run_id} — {e(view.guest)}</h1>
<table class="head">{head}</table>
{"".join(body)}
<div class="sigs">{signatures}</div>
<p class="foot">{e(t("Printed {at}. ★ = critical item.", at=_fmt(printed_at)))}</p>
</body></html>"""


@cache
def cjk_font_path() -> str | None:
    override = os.environ.get("CONSOLE_CJK_FONT")
    for path in (override, *FONT_CANDIDATES):
        if path and Path(path).exists():
            return path
    return None


def _collection_index(path: str) -> int:
    """The Simplified Chinese face of a Noto CJK collection (0 for a single font)."""
    if not path.lower().endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    for index, font in enumerate(collection.fonts):
        name = font["name"].getDebugName(4) or ""
        if name.endswith(" SC") and "Mono" not in name:
            return index
    return 0


def run_sheet_pdf(view: RunView, printed_at: dt.datetime) -> bytes | None:
    """The run sheet as a PDF (A4 landscape) with an embedded CJK font; None when fpdf2 or the font is missing."""
    font = cjk_font_path()
    if font is None:
        return None
    try:
        from fpdf import FPDF
        from fpdf.fonts import FontFace
    except ImportError:
        return None
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", "", font, collection_font_number=_collection_index(font))
    pdf.set_title(f"{t('Run sheet')} #{view.run_id}")
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, f"{t('Run sheet')} #{view.run_id} — {view.guest}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, "   ".join(f"{k}: {v}" for k, v in _headline(view)), new_x="LMARGIN", new_y="NEXT")
    header_style = FontFace(fill_color=(235, 235, 235))
    widths = (10, 104, 26, 28, 44, 26, 28, 11)
    cols = [t("#"), t("Item"), t("Department"), t("Due"), t("Status"), t("Who"), t("When"), t("Initials")]
    for title, rows in _groups(view):
        pdf.ln(3)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        with pdf.table(
            col_widths=widths,
            headings_style=header_style,
            line_height=4.5,
            first_row_as_headings=True,
            text_align="LEFT",
        ) as table:
            table.row(cols)
            for r in rows:
                flags = (" ★" if r.critical else "") + ("" if r.required else f" ({t('optional')})")
                table.row(
                    [
                        str(r.seq),
                        _txt(r, "text") + flags,
                        department_label(r.department),
                        _fmt(r.due_at),
                        _status(r),
                        r.done_by or "",
                        _fmt(r.done_at),
                        "",
                    ]
                )
    pdf.ln(14)
    pdf.set_font("cjk", size=9)
    y = pdf.get_y()
    for i, role in enumerate(SIGNATURES):
        x = pdf.l_margin + i * 92
        pdf.line(x, y, x + 80, y)
        pdf.set_xy(x, y + 1)
        pdf.cell(80, 5, f"{t(role)} · {t('Signature and date')}")
    pdf.set_xy(pdf.l_margin, y + 10)
    pdf.set_font("cjk", size=7)
    pdf.cell(0, 4, t("Printed {at}. ★ = critical item.", at=_fmt(printed_at)))
    return bytes(pdf.output())


@query("reception.read")
def run_sheet(*, session: Session, actor: Actor, run_id: int, now: dt.datetime, with_pdf: bool = True) -> RunSheet:
    """The run sheet of a run the actor may see (reception staff: their department's items)."""
    view = get_run(session=session, actor=actor, run_id=run_id, now=now)
    return RunSheet(
        filename=f"run-sheet-{view.run_id}",
        html=run_sheet_html(view, now),
        pdf=run_sheet_pdf(view, now) if with_pdf else None,
    )
