"""Shared by the letter tests: a frozen pack, a few projects, and their evaluated findings."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from engine.evaluation.evaluate import Evaluator
from engine.evaluation.findings import Finding
from engine.policy.policy import Policy, load_policy
from engine.records.intake import load_records
from engine.records.model import Record
from engine.render.letters import LetterModel, build_letter, letter_number

GOLDEN = Path(__file__).resolve().parent / "golden"
PACK = GOLDEN / "pack"  # frozen measures 2 and 9: golden files do not move when rules/ grows
LETTER_DATE = dt.date(2026, 3, 5)

PROJECTS_CSV = """项目编号,项目名称,申报单位,所在县区,所在镇街,项目类别,总投资(万元),用地面积(亩),年税收(万元),是否位于省级特色小镇,申报日期
P-FAIL,巨野县新材料技术改造项目,巨野县华新材料股份有限公司,巨野县,麒麟镇,技改项目,480,35,60,否,2024-08-15
P-OK,郓城县高端装备制造产业园,郓城县智能装备有限公司,郓城县,张营街道,制造业重点项目,26000,180,900,否,2024-07-02
P-MISSING,东明县石化新材料配套仓储项目,东明县石化物流有限公司,东明县,马头镇,制造业重点项目,45000,,2100,是,2024-11-05
../../x,<script>alert(1)</script>{{ 7*7 }},A & B | *公司*,曹县,大集镇,技改项目,300,10,5,否,2024-09-01
项目/一期,单县测试项目,单县测试公司,单县,浮岗镇,技改项目,600,10,5,否,2024-09-01
"""


@lru_cache(maxsize=1)
def frozen_policy() -> Policy:
    return load_policy([PACK], with_builtin=False)


def write_projects(folder: Path) -> Path:
    p = folder / "projects.csv"
    p.write_text(PROJECTS_CSV, encoding="utf-8")
    return p


@lru_cache(maxsize=1)
def evaluated() -> tuple[dict[str, Record], dict[str, list[Finding]]]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        intake = load_records([write_projects(Path(d))], frozen_policy().catalog)
    assert not intake.errors, intake.errors
    result = Evaluator(frozen_policy()).evaluate(intake.records)
    records = {r.id: r for r in intake.records}
    findings: dict[str, list[Finding]] = {}
    for f in result.findings:
        findings.setdefault(f.record_id, []).append(f)
    return records, findings


def letter_for(record_id: str, seq: int = 1) -> LetterModel:
    records, findings = evaluated()
    rec = records[record_id]
    pol = frozen_policy()
    return build_letter(
        findings[record_id],
        record_id=rec.id,
        name=rec.name,
        values=rec.values,
        number=letter_number("菏城审", LETTER_DATE.year, seq),
        date=LETTER_DATE,
        plan_titles={p.pack.meta.number: p.pack.meta.title for p in pol.packs},
    )


# --- reading laid-out documents (PDF from WeasyPrint, or DOCX converted by LibreOffice) ----------------

MM = 72 / 25.4
A4_W, A4_H = 210 * MM, 297 * MM
# GB/T 9704-2012 type area: 156 mm x 225 mm, top 37 mm, inner margin 28 mm (odd pages: left).
TOP, BOTTOM = 37 * MM, (297 - 35) * MM
SLACK = 2.5  # pt: glyph side bearings, table rules


def type_area(page_no: int) -> tuple[float, float]:
    """(left, right) of the type area on page `page_no` (1-based): mirrored on even pages."""
    left = 28 if page_no % 2 else 26
    return left * MM, (left + 156) * MM


class TextLine(NamedTuple):
    page: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


def pdf_lines(data: bytes) -> list[list[TextLine]]:
    """Every text line of every page with its box (pdfplumber), pages 1-based in TextLine.page."""
    import io

    import pdfplumber

    pages = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for n, page in enumerate(pdf.pages, start=1):
            assert abs(page.width - A4_W) < 2 and abs(page.height - A4_H) < 2, "not A4 portrait"
            pages.append(
                [
                    TextLine(n, re.sub(r"\s+", "", ln["text"]), ln["x0"], ln["x1"], ln["top"], ln["bottom"])
                    for ln in page.extract_text_lines(strip=True, return_chars=False)
                    if ln["text"].strip()
                ]
            )
    return pages


PAGE_NUMBER = re.compile(r"^—(\d+)—$")
HANGING = set("，。；：、）》”’！？")


def layout_problems(pages: list[list[TextLine]]) -> list[str]:
    """Text outside the type area (page numbers excepted: below it, on the outer side, "— n —")."""
    problems = []
    for lines in pages:
        for ln in lines:
            left, right = type_area(ln.page)
            m = PAGE_NUMBER.match(ln.text)
            if m:
                if int(m.group(1)) != ln.page:
                    problems.append(f"page {ln.page}: page number reads {ln.text}")
                if ln.top < BOTTOM or ln.bottom > A4_H - 10 * MM:
                    problems.append(f"page {ln.page}: page number not in the bottom margin ({ln.top:.0f})")
                outer = ln.x1 > (left + right) / 2 if ln.page % 2 else ln.x0 < (left + right) / 2
                if not outer:
                    problems.append(f"page {ln.page}: page number not on the outer side")
                continue
            # LibreOffice hangs a closing full-width mark into the margin (行尾标点悬挂, CJK typography);
            # it stays in the printable area, so one such mark beyond the edge is allowed.
            hang = 17 if ln.text[-1:] in HANGING else 0
            if (
                ln.x0 < left - SLACK
                or ln.x1 > right + SLACK + hang
                or ln.top < TOP - SLACK
                or ln.bottom > BOTTOM + SLACK
            ):
                problems.append(
                    f"page {ln.page}: {ln.text[:20]!r} outside the type area "
                    f"({ln.x0:.0f}-{ln.x1:.0f} x {ln.top:.0f}-{ln.bottom:.0f})"
                )
        if not any(PAGE_NUMBER.match(ln.text) for ln in lines):
            problems.append(f"page {lines[0].page if lines else '?'}: no page number")
    return problems


def find_line(pages: list[list[TextLine]], text: str, *, last: bool = True) -> TextLine:
    hits = [ln for lines in pages for ln in lines if ln.text == text]
    assert hits, f"no line {text!r}"
    return hits[-1] if last else hits[0]


def glyph_problems(data: bytes) -> list[str]:
    """Fonts not embedded, characters without a Unicode mapping or drawn with glyph 0 (.notdef = tofu)."""
    import io

    from pdfminer.converter import PDFLayoutAnalyzer
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdffont import PDFCIDFont
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    problems: set[str] = set()

    class Recorder(PDFLayoutAnalyzer):
        def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate):  # type: ignore[override]
            desc = getattr(font, "descriptor", {}) or {}
            if not any(k in desc for k in ("FontFile", "FontFile2", "FontFile3")):
                problems.add(f"font {font.fontname} is not embedded")
            try:
                text = font.to_unichr(cid)
            except Exception:
                text = None
            if not text or text == "\ufffd":
                problems.add(f"font {font.fontname}: code {cid} has no Unicode mapping")
            if isinstance(font, PDFCIDFont) and cid == 0:
                problems.add(f"font {font.fontname}: glyph 0 (.notdef, a box) drawn")
            return super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate)

    parser = PDFParser(io.BytesIO(data))
    doc = PDFDocument(parser)
    rsrc = PDFResourceManager()
    device = Recorder(rsrc)
    interp = PDFPageInterpreter(rsrc, device)
    for page in PDFPage.create_pages(doc):
        interp.process_page(page)
    return sorted(problems)


def soffice_pdf(docx_bytes: bytes, folder: Path, name: str = "doc") -> bytes:
    """The DOCX as LibreOffice lays it out (headless conversion to PDF), with the font aliases of
    reports/templates/fontconfig-cjk.conf (仿宋 -> AR PL UKai CN …). Skipped without soffice, except in CI
    (CI=true), where .ci/run installs it and its absence is a failure."""
    import os
    import shutil
    import subprocess

    import pytest

    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("soffice is missing in CI: .ci/run installs libreoffice-writer-nogui")
        pytest.skip("LibreOffice (soffice) not installed; CI installs it")
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<include>{ROOT / 'reports/templates/fontconfig-cjk.conf'}</include></fontconfig>",
        encoding="utf-8",
    )
    src = folder / f"{name}.docx"
    src.write_bytes(docx_bytes)
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "HOME": str(folder)}
    subprocess.run(
        [
            exe,
            "--headless",
            f"-env:UserInstallation=file://{folder / 'lo-profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(src),
        ],
        env=env,
        capture_output=True,
        timeout=300,
        check=True,
    )
    return (folder / f"{name}.pdf").read_bytes()


# --- the samples, evaluated once into a store ------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=1)
def sample_store() -> str:
    """An SQLite store holding one evaluation of samples/ (made once per test session)."""
    import subprocess
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="samples-store-"))
    url = f"sqlite:///{folder / 'samples.db'}"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from engine.cli import main; main()",
            "evaluate",
            "samples/",
            "--db",
            url,
            "--format",
            "summary",
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1) and "已保存 stored" in done.stderr, done.stderr
    return url


def sample_notice(scope: str, name: str):  # type: ignore[no-untyped-def]
    """The progress notice of a sample town/county/city as a NoticeModel."""
    from engine.render.notices import Subject, build_notice
    from engine.render.stored import run_judgements
    from engine.store import Store

    pol = load_policy([])
    with Store(sample_store(), create=False) as store:
        js = list(run_judgements(store, pol, 1, kinds={"town", "county", "city"}))
    subjects = [
        Subject(
            id=j.record_id,
            kind=j.kind,
            name=j.name,
            county=None if j.values.get("county") is None else str(j.values["county"]),
        )
        for j in js
    ]
    return build_notice(
        [f for j in js for f in j.findings],
        subjects,
        scope=scope,
        name=name,  # type: ignore[arg-type]
        date=LETTER_DATE,
        reviewer="菏泽市推进新型城镇化工作领导小组办公室",
        plan_titles={p.pack.meta.number: p.pack.meta.title for p in pol.packs},
    )


def sample_letter(record_id: str = "HZ-2024-004", number: str = "菏城审〔2026〕2号") -> LetterModel:
    from engine.render.stored import latest_judgement
    from engine.store import Store

    pol = load_policy([])
    with Store(sample_store(), create=False) as store:
        j = latest_judgement(store, pol, record_id, kind="project")
    return build_letter(
        j.findings,
        record_id=j.record_id,
        name=j.name,
        values=j.values,
        number=number,
        date=LETTER_DATE,
        plan_titles={p.pack.meta.number: p.pack.meta.title for p in pol.packs},
        run_id=str(j.run_id),
        fingerprint=j.fingerprint,
    )


def closing_problems(
    pages: list[list[TextLine]], signature: list[str], date: str, body_marker: str
) -> list[str]:
    """The 落款 as GB/T 9704 lays it out: signature lines and date right-aligned near the right margin, on
    one page, and that page also carries body text (`body_marker`), so the date never stands alone."""
    problems = []
    d = find_line(pages, date)
    _, right = type_area(d.page)
    if not right - 40 * MM < d.x1 <= right + SLACK:
        problems.append(f"date ends {(right - d.x1) / MM:.1f} mm from the right margin")
    for text in signature:
        s = find_line(pages, text)
        if s.page != d.page:
            problems.append(f"signature {text!r} on page {s.page}, date on page {d.page}")
        if not right - 40 * MM < s.x1 <= right + SLACK:
            problems.append(f"signature ends {(right - s.x1) / MM:.1f} mm from the right margin")
        if s.top > d.top:
            problems.append("signature below the date")
        if s.x0 < type_area(s.page)[0] + 20 * MM:
            problems.append("signature starts at the left margin (not right-aligned)")
    page_text = "".join(ln.text for ln in pages[d.page - 1])
    if body_marker not in page_text:
        problems.append(
            f"the date's page {d.page} has no body text ({body_marker!r}): signature and date alone"
        )
    return problems


def records_and_policy_titles() -> dict[str, str]:
    return {p.pack.meta.number: p.pack.meta.title for p in frozen_policy().packs}
