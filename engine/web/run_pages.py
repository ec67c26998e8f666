"""The runs and their results: the list of runs, one run's findings filtered and paged, exports."""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from engine.store import StoreError
from engine.store import accounts as acc
from engine.web import auth
from engine.web.app import KIND_ZH, Web, _audit, download, threaded, url_with
from engine.web.pages import W
from engine.web.queries import (
    Filters,
    count_findings,
    filter_choices,
    findings_all,
    findings_page,
    run_problems,
)
from engine.web.upload_pages import job_view


async def runs_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    from engine.store import list_runs

    runs = list(reversed(await threaded(list_runs, web.store)))
    jobs = await threaded(acc.list_jobs, web.store, 20)
    active = [job_view(j) for j in jobs if j.status in ("queued", "running")]
    return web.page(request, "runs.html", nav="runs", runs=runs, active=active)


def _filters(request: Request) -> Filters:
    q = request.query_params

    def opt_int(v: str | None) -> int | None:
        return int(v) if v and v.lstrip("-").isdigit() else None

    review = q.get("review")
    return Filters(
        status=q.get("status") or None,
        review=None if review not in ("0", "1") else review == "1",
        measure=opt_int(q.get("measure")),
        county=q.get("county") or None,
        kind=q.get("kind") or None,
        record=q.get("record") or None,
    )


def _run_detail(web: Web, run_id: int) -> Any:
    from engine.web.queries import cached_detail

    try:
        return cached_detail(web.store, run_id)
    except StoreError as exc:
        raise HTTPException(404, f"没有第 {run_id} 次评价批次") from exc


async def run_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    run_id = int(request.path_params["run_id"])
    detail = await threaded(_run_detail, web, run_id)
    finished = detail.summary.finished_at is not None
    f = _filters(request)
    page = max(
        1,
        int(request.query_params.get("page", "1") or 1)
        if request.query_params.get("page", "1").isdigit()
        else 1,
    )
    per = web.settings.page_size
    total = await threaded(count_findings, web.store, run_id, f, finished=finished)
    pages = max(1, -(-total // per))
    page = min(page, pages)
    rows = (
        []
        if not total
        else await threaded(findings_page, web.store, run_id, f, page=page, per_page=per, finished=finished)
    )
    choices = await threaded(filter_choices, web.store, run_id, finished=finished)
    problems, n_problems = await threaded(run_problems, web.store, run_id, 100)
    counts = detail.summary.counts if finished else detail.summary.counts
    return web.page(
        request,
        "run.html",
        nav="runs",
        run=detail,
        counts=counts,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        f=f,
        choices=choices,
        problems=problems,
        n_problems=n_problems,
        url_with=partial_url(request),
        export_q=_query(f),
    )


def partial_url(request: Request) -> Any:
    return lambda **kw: url_with(request, **kw)


def _query(f: Filters) -> str:
    from urllib.parse import urlencode

    p = f.params()
    return ("?" + urlencode(p)) if p else ""


EXPORT_HEADERS = [
    "批次",
    "记录类型",
    "记录编号",
    "记录名称",
    "报告期",
    "来源文件",
    "工作表",
    "行号",
    "条款",
    "条款名称",
    "检查项编号",
    "检查项",
    "性质",
    "结论",
    "需人工复核",
    "数值",
    "阈值",
    "单位",
    "说明",
    "缺少字段",
]


def _export_row(r: Any) -> list[Any]:
    from engine.policy.terms import NATURE_ZH, STATUS_ZH

    def plain(v: Any) -> Any:
        if isinstance(v, bool):
            return "是" if v else "否"
        return None if v is None else str(v)

    return [
        r.run_id,
        KIND_ZH.get(r.kind, r.kind),
        r.record_id,
        r.record_name,
        r.period,
        r.file,
        r.sheet,
        r.row,
        r.measure,
        r.measure_title,
        r.check_id,
        r.check_title,
        NATURE_ZH.get(r.nature, r.nature),
        STATUS_ZH.get(r.status, r.status),
        "是" if r.review else "否",
        plain(r.value),
        plain(r.threshold),
        r.unit,
        r.message,
        r.missing_fields,
    ]


async def export_run(request: Request) -> Response:
    account = auth.require(request)
    web = W(request)
    run_id, fmt = int(request.path_params["run_id"]), request.path_params["fmt"]
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404, "只能导出为 CSV 或 XLSX")
    await threaded(_run_detail, web, run_id)
    f = _filters(request)
    await threaded(
        _audit, web, account.name, "export", f"第{run_id}次评价 {fmt}", run_id=run_id, detail=f.params()
    )
    name = f"审查结果_第{run_id}批次.{fmt}"
    if fmt == "csv":

        def lines() -> Any:
            buf = io.StringIO()
            w = csv.writer(buf)
            buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
            w.writerow(EXPORT_HEADERS)
            for i, r in enumerate(findings_all(web.store, run_id, f)):
                w.writerow(_export_row(r))
                if i % 2000 == 0:
                    yield buf.getvalue().encode()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue().encode()

        resp = StreamingResponse(lines(), media_type="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = download(b"", name, "text/csv").headers["Content-Disposition"]
        return resp

    def xlsx() -> bytes:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("审查结果")
        ws.append(EXPORT_HEADERS)
        for r in findings_all(web.store, run_id, f):
            ws.append(_export_row(r))
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    data = await threaded(xlsx)
    return download(data, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
