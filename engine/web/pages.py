"""The workbench's pages. Each handler: who may (auth.require), what it reads or does, which template."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import time
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from engine.store import StoreError
from engine.store import accounts as acc
from engine.web import auth
from engine.web.app import KIND_ZH, Web, _audit, download, threaded, url_with
from engine.web.queries import (
    Filters,
    count_findings,
    filter_choices,
    findings_all,
    findings_page,
    run_problems,
)
from engine.web.uploads import (
    UploadRefused,
    check_suffix,
    check_zip,
    clean_filename,
    estimate_rows,
    new_folder,
)

IP_WINDOW, IP_FREE = 600.0, 3  # failed logins from one address within 10 minutes before each is slowed


def W(request: Request) -> Web:
    return request.app.state.web


async def form_checked(request: Request, **limits: Any) -> FormData:
    form = await request.form(**limits)
    auth.check_csrf(request, form)
    return form


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def make_runner(web: Web) -> Any:
    from engine.web.jobs import ThreadRunner

    mode = web.settings.queue
    if mode == "auto":
        mode = "procrastinate" if web.store.dialect == "postgresql" else "thread"
    if mode == "procrastinate":
        from engine.web.queue import ProcrastinateRunner

        return ProcrastinateRunner(web.store.url)
    return ThreadRunner(web.store, lambda dirs: web.policy(dirs))


# --- login ---------------------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def login_page(request: Request) -> Response:
    if auth.current_user(request) is not None:
        return redirect(_safe_next(request.query_params.get("next")))
    return W(request).page(
        request, "login.html", next=_safe_next(request.query_params.get("next")), error=None
    )


async def login_submit(request: Request) -> Response:
    web = W(request)
    form = await form_checked(request)
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    nxt = _safe_next(str(form.get("next", "")))
    ip = request.client.host if request.client else "?"
    now = time.time()
    failures = web.failures_by_ip
    recent = [t for t in failures[ip] if now - t < IP_WINDOW]
    failures[ip] = recent
    if len(recent) > IP_FREE:  # slowed down: one more second per failure beyond the free ones, up to 5
        await asyncio.sleep(min(5.0, len(recent) - IP_FREE))
    result = await threaded(acc.authenticate, web.store, name, password)
    if result.account is None:
        failures[ip].append(now)
        await threaded(
            _audit,
            web,
            name[:100] or None,
            "login_failed",
            ip,
            detail={"failures": result.failures, "locked_for": result.locked_for},
        )
        error = (
            f"登录失败次数过多,请 {result.locked_for} 秒后再试" if result.locked_for else "用户名或密码不正确"
        )
        return web.page(
            request,
            "login.html",
            status_code=401 if not result.locked_for else 429,
            next=nxt,
            error=error,
            username=name,
        )
    failures.pop(ip, None)
    auth.login(request, result.account)
    await threaded(_audit, web, result.account.name, "login", ip)
    return redirect(nxt)


async def logout(request: Request) -> Response:
    await form_checked(request)
    account = auth.current_user(request)
    if account is not None:
        await threaded(_audit, W(request), account.name, "logout")
    auth.logout(request)
    return redirect("/login")


async def home(request: Request) -> Response:
    auth.require(request)
    return redirect("/runs")


# --- upload and evaluate ---------------------------------------------------------------------------


def _packs(web: Web) -> list[dict[str, Any]]:
    """Every pack one may choose: the built-in one (always) and the extra ones known to the workbench."""
    from engine.policy.config import pack_dirs
    from engine.policy.loader import BUILTIN_PACK

    dirs = [BUILTIN_PACK, *pack_dirs(web.settings.rules_dirs)]
    loaded = web.settings.data_dir / "packs"
    if loaded.is_dir():
        dirs += sorted(p for p in loaded.iterdir() if p.is_dir())
    key = tuple((str(d), Path(d).stat().st_mtime_ns if Path(d).exists() else 0) for d in dirs)
    if web.pack_choices is None or web.pack_choices[0] != key:
        web.pack_choices = (key, _read_packs(dirs))
    return web.pack_choices[1]


def _read_packs(dirs: list[Any]) -> list[dict[str, Any]]:
    from engine.policy.loader import BUILTIN_PACK, load_pack

    out = []
    seen = set()
    for d in dirs:
        d = Path(d).resolve()
        if d in seen:
            continue
        seen.add(d)
        pack, _errors = load_pack(d)
        if pack is not None:
            out.append(
                {
                    "dir": str(d),
                    "id": pack.meta.id,
                    "title": pack.meta.title,
                    "number": pack.meta.number,
                    "builtin": d == Path(BUILTIN_PACK).resolve(),
                    "measures": len(pack.measures),
                }
            )
    return out


async def upload_page(request: Request) -> Response:
    auth.require(request, "reviewer")
    web = W(request)
    packs = await threaded(_packs, web)
    return web.page(
        request,
        "upload.html",
        nav="upload",
        packs=packs,
        error=None,
        limit_mb=web.settings.max_upload_bytes // (1024 * 1024),
    )


async def upload_submit(request: Request) -> Response:
    account = auth.require(request, "reviewer")
    web = W(request)
    limit = web.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise HTTPException(413, f"文件超过上传上限 {limit // (1024 * 1024)} MB")
    form = await form_checked(request, max_files=1, max_fields=50)
    upload = form.get("file")
    packs = await threaded(_packs, web)

    def refuse(message: str, code: int = 400) -> Response:
        return web.page(
            request,
            "upload.html",
            status_code=code,
            nav="upload",
            packs=packs,
            error=message,
            limit_mb=limit // (1024 * 1024),
        )

    if not isinstance(upload, UploadFile) or not upload.filename:
        return refuse("请选择要上传的文件")
    name = clean_filename(upload.filename)
    try:
        suffix = check_suffix(name)
    except UploadRefused as exc:
        return refuse(str(exc))
    if Path(name).suffix.lower() != suffix:
        name += suffix
    if upload.size is not None and upload.size > limit:
        return refuse(f"文件超过上传上限 {limit // (1024 * 1024)} MB", 413)
    chosen = {str(v) for v in form.getlist("pack")}
    extra = [p["dir"] for p in packs if not p["builtin"] and p["dir"] in chosen]
    as_of = str(form.get("as_of") or "").strip() or None
    if as_of:
        try:
            import datetime as dt

            dt.date.fromisoformat(as_of)
        except ValueError:
            return refuse("审查日期格式应为 YYYY-MM-DD")
    folder = new_folder(web.settings.data_dir)
    path = folder / name
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                return refuse(f"文件超过上传上限 {limit // (1024 * 1024)} MB", 413)
            out.write(chunk)
    try:
        if suffix in (".xlsx", ".xlsm"):
            check_zip(path, web.settings.max_expanded_bytes)
    except UploadRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        await threaded(_audit, web, account.name, "upload", name, detail=f"拒收:{exc}")
        return refuse(str(exc))
    total = await threaded(estimate_rows, path)
    job = await threaded(
        acc.create_job,
        web.store,
        user=account.name,
        filename=name,
        paths=[str(path)],
        options={"rules_dirs": extra, "as_of": as_of},
        total_rows=total,
    )
    await threaded(_audit, web, account.name, "upload", name, detail={"bytes": size, "job": job.id})
    await threaded(web.runner.submit, job.id)
    return redirect(f"/jobs/{job.id}")


def _job_or_404(web: Web, job_id: int) -> acc.Job:
    job = acc.get_job(web.store, job_id)
    if job is None:
        raise HTTPException(404, f"没有第 {job_id} 号评价任务")
    return job


def _job_view(job: acc.Job) -> dict[str, Any]:
    errors = json.loads(job.error) if job.error else []
    return {
        "id": job.id,
        "status": job.status,
        "percent": job.percent,
        "n_read": job.n_read,
        "n_valid": job.n_valid,
        "n_rejected": job.n_rejected,
        "total_rows": job.total_rows,
        "run_id": job.run_id,
        "errors": errors,
        "filename": job.filename,
        "status_zh": {"queued": "排队中", "running": "评价中", "done": "已完成", "failed": "失败"}[
            job.status
        ],
    }


async def job_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    job = await threaded(_job_or_404, web, int(request.path_params["job_id"]))
    return web.page(
        request, "job.html", nav="upload", job=_job_view(job), created=job.created_at, user_name=job.user_name
    )


async def job_json(request: Request) -> Response:
    auth.require(request)
    job = await threaded(_job_or_404, W(request), int(request.path_params["job_id"]))
    v = _job_view(job)
    v["errors"] = len(v["errors"])
    return JSONResponse(v)


# --- runs and results -----------------------------------------------------------------------------


async def runs_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    from engine.store import list_runs

    runs = list(reversed(await threaded(list_runs, web.store)))
    jobs = await threaded(acc.list_jobs, web.store, 20)
    active = [_job_view(j) for j in jobs if j.status in ("queued", "running")]
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
    rows = [] if not total else await threaded(findings_page, web.store, run_id, f, page=page, per_page=per)
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


def routes() -> list[Route]:
    from engine.web import documents, policy_pages

    return [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/upload", upload_page, methods=["GET"]),
        Route("/upload", upload_submit, methods=["POST"]),
        Route("/jobs/{job_id:int}", job_page),
        Route("/jobs/{job_id:int}.json", job_json),
        Route("/runs", runs_page),
        Route("/runs/{run_id:int}", run_page),
        Route("/runs/{run_id:int}/export.{fmt:str}", export_run),
        *documents.routes(),
        *policy_pages.routes(),
    ]
