"""Record detail, letters (审查意见书), notices (达标情况通报) and the diff of two runs."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from engine.store import StoreError
from engine.web import auth
from engine.web.app import Web, _audit, download, threaded

MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}
PREVIEW_NUMBER = "(出具时编号)"


def W(request: Request) -> Web:
    return request.app.state.web


def _opt_int(v: Any) -> int | None:
    return int(v) if isinstance(v, str) and v.isdigit() else None


def _judgement(web: Web, record_id: str, run_id: int | None, kind: str | None) -> Any:
    from engine.render.stored import latest_judgement

    try:
        return latest_judgement(web.store, web.policy(), record_id, run_id=run_id, kind=kind or None)
    except StoreError as exc:
        raise HTTPException(404, f"无法读取记录 {record_id}:{exc}") from exc


def _record_view(web: Web, record_id: str, run_id: int | None, kind: str | None) -> dict[str, Any]:
    from engine.store import letters_for_record, record_history

    try:
        histories = record_history(web.store, record_id)
    except StoreError as exc:
        raise HTTPException(404, f"审查记录库中没有记录 {record_id}") from exc
    if kind:
        histories = [h for h in histories if h.kind == kind]
    judgement, problem = None, None
    try:
        judgement = _judgement(web, record_id, run_id, kind)
    except HTTPException as exc:
        problem = exc.detail
    letters = [x for x in letters_for_record(web.store, record_id)]
    return {"histories": histories, "j": judgement, "problem": problem, "letters": letters}


async def record_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    record_id = request.path_params["record_id"]
    run_id, kind = _opt_int(request.query_params.get("run")), request.query_params.get("kind")
    view = await threaded(_record_view, web, record_id, run_id, kind)
    return web.page(request, "record.html", nav="runs", record_id=record_id, run_id=run_id, kind=kind, **view)


# --- letters --------------------------------------------------------------------------------------


def _office() -> Any:
    from engine.render.office import load_office

    return load_office()


def _letter_model(web: Web, j: Any, number: str) -> Any:
    from engine.render.letters import build_letter

    office = _office()
    return build_letter(
        j.findings,
        record_id=j.record_id,
        name=j.name,
        values=j.values,
        number=number,
        date=j.run_date,
        reviewer=office.name,
        signature=office.signature_lines,
        contact=office.contact,
        plan_titles={p.pack.meta.number: p.pack.meta.title for p in web.policy().packs},
        run_id=str(j.run_id),
        fingerprint=j.fingerprint,
    )


async def letter_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    record_id = request.path_params["record_id"]
    run_id, kind = _opt_int(request.query_params.get("run")), request.query_params.get("kind")
    j = await threaded(_judgement, web, record_id, run_id, kind)
    from engine.store import letters_for_record

    letters = await threaded(letters_for_record, web.store, record_id)
    return web.page(
        request,
        "letter.html",
        nav="runs",
        j=j,
        record_id=record_id,
        kind=kind,
        letters=[x for x in letters if x.run_id == j.run_id],
    )


async def letter_preview(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    record_id = request.path_params["record_id"]
    run_id, kind = _opt_int(request.query_params.get("run")), request.query_params.get("kind")

    def html() -> bytes:
        from engine.render.documents import render_letter

        j = _judgement(web, record_id, run_id, kind)
        if not j.findings:
            raise HTTPException(404, f"记录 {record_id} 没有审查结论,无法出具意见书")
        return render_letter(_letter_model(web, j, PREVIEW_NUMBER), "html")

    return HTMLResponse(
        await threaded(html),
        headers={
            "Content-Security-Policy": "default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:; font-src data:; "
            "frame-ancestors 'self'"
        },
    )


async def letter_issue(request: Request) -> Response:
    account = auth.require(request, "officer")
    web = W(request)
    form = await request.form()
    auth.check_csrf(request, form)
    record_id = request.path_params["record_id"]
    fmt = str(form.get("format", ""))
    if fmt not in ("pdf", "docx"):
        raise HTTPException(400, "格式只能是 PDF 或 DOCX")
    run_id, kind = _opt_int(form.get("run")), str(form.get("kind") or "") or None

    def issue() -> tuple[str, bytes]:
        from engine.render.documents import render_letter
        from engine.render.files import safe_stem
        from engine.render.numbering import StoreBook
        from engine.store.letters import judgement_fingerprint

        j = _judgement(web, record_id, run_id, kind)
        if not j.findings:
            raise HTTPException(404, f"记录 {record_id} 没有审查结论,无法出具意见书")
        office = _office()
        book = StoreBook(web.store)
        with book.issue(office.prefix, j.run_date.year, j, judgement_fingerprint(j.findings)) as issued:
            data = render_letter(_letter_model(web, j, issued.number), fmt)  # type: ignore[arg-type]
            issued.record(fmt, hashlib.sha256(data).hexdigest(), None)
            number, reused = issued.number, issued.reused
        _audit(
            web,
            account.name,
            "letter",
            f"{number} {record_id}",
            run_id=j.run_id,
            detail={"format": fmt, "record": record_id, "number": number, "reused": reused},
        )
        return f"{safe_stem(number, record_id)}.{fmt}", data

    name, data = await threaded(issue)
    return download(data, name, MEDIA[fmt])


# --- notices --------------------------------------------------------------------------------------


def _notice_subjects(web: Web, run_id: int | None) -> tuple[list[Any], int | None]:
    from engine.render.stored import run_judgements
    from engine.store import list_runs

    runs = [run_id] if run_id else [r.id for r in reversed(list_runs(web.store)) if r.finished_at]
    for rid in runs:
        js = list(run_judgements(web.store, web.policy(), rid, kinds={"town", "county", "city"}))
        if js:
            return js, rid
    return [], None


def _notice(web: Web, scope: str, name: str, run_id: int | None) -> Any:
    from engine.render.notices import Subject, build_notice, select_subjects

    def subject(j: Any) -> Subject:
        c = j.values.get("county")
        return Subject(id=j.record_id, kind=j.kind, name=j.name, county=None if c is None else str(c))

    runs = [run_id] if run_id else None
    from engine.store import list_runs

    if runs is None:
        runs = [r.id for r in reversed(list_runs(web.store)) if r.finished_at]
    from engine.render.stored import run_judgements

    for rid in runs:
        js = list(run_judgements(web.store, web.policy(), rid, kinds={"town", "county", "city"}))
        subjects = [subject(j) for j in js]
        if select_subjects(subjects, scope, name):  # type: ignore[arg-type]
            office = _office()
            day = max(j.run_date for j in js)
            try:
                return build_notice(
                    [f for j in js for f in j.findings],
                    subjects,
                    scope=scope,  # type: ignore[arg-type]
                    name=name,
                    date=day,
                    reviewer=office.name,
                    signature=office.signature_lines,
                    contact=office.contact,
                    plan_titles={p.pack.meta.number: p.pack.meta.title for p in web.policy().packs},
                    fingerprint=js[0].fingerprint,
                ), rid
            except LookupError as exc:
                raise HTTPException(404, str(exc)) from exc
    raise HTTPException(404, f"没有评价批次审查过“{name}”")


SCOPE_ZH = {"town": "镇街", "county": "县区", "city": "市"}


def _known_names(web: Web) -> dict[str, list[str]]:
    js, _ = _notice_subjects(web, None)
    out: dict[str, list[str]] = {"town": [], "county": [], "city": []}
    for j in js:
        out.setdefault(j.kind, []).append(j.name or j.record_id)
    return {k: sorted(set(v)) for k, v in out.items()}


async def notices_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    scope = request.query_params.get("scope") or ""
    name = request.query_params.get("name") or ""
    run_id = _opt_int(request.query_params.get("run"))
    known = await threaded(_known_names, web)
    error, found_run = None, None
    if scope and name:
        if scope not in SCOPE_ZH:
            error = "范围只能是镇街、县区或市"
        else:
            try:
                _, found_run = await threaded(_notice, web, scope, name, run_id)
            except HTTPException as exc:
                error = exc.detail
    return web.page(
        request,
        "notices.html",
        nav="notices",
        scope=scope,
        name=name,
        known=known,
        error=error,
        run_id=found_run,
        SCOPE_ZH=SCOPE_ZH,
    )


async def notice_preview(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    q = request.query_params
    scope, name = q.get("scope", ""), q.get("name", "")
    if scope not in SCOPE_ZH or not name:
        raise HTTPException(400, "请选择范围和名称")

    def html() -> bytes:
        from engine.render.documents import render_notice

        model, _ = _notice(web, scope, name, _opt_int(q.get("run")))
        return render_notice(model, "html")

    return HTMLResponse(
        await threaded(html),
        headers={
            "Content-Security-Policy": "default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'self'"
        },
    )


async def notice_issue(request: Request) -> Response:
    account = auth.require(request, "officer")
    web = W(request)
    form = await request.form()
    auth.check_csrf(request, form)
    scope, name, fmt = str(form.get("scope", "")), str(form.get("name", "")), str(form.get("format", ""))
    if scope not in SCOPE_ZH or not name or fmt not in ("pdf", "docx"):
        raise HTTPException(400, "请选择范围、名称和格式(PDF 或 DOCX)")

    def render() -> bytes:
        from engine.render.documents import render_notice

        model, rid = _notice(web, scope, name, _opt_int(form.get("run")))
        data = render_notice(model, fmt)  # type: ignore[arg-type]
        _audit(web, account.name, "notice", f"{SCOPE_ZH[scope]} {name}", run_id=rid, detail={"format": fmt})
        return data

    data = await threaded(render)
    return download(data, f"达标情况通报_{name}_{dt.date.today().isoformat()}.{fmt}", MEDIA[fmt])


# --- diff -----------------------------------------------------------------------------------------

DIFF_LIMIT = 500


async def diff_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    from engine.store import diff_runs, list_runs

    runs = list(reversed(await threaded(list_runs, web.store)))
    a, b = _opt_int(request.query_params.get("a")), _opt_int(request.query_params.get("b"))
    changes, error = None, None
    if a and b:
        try:
            changes = await threaded(diff_runs, web.store, a, b)
        except StoreError as exc:
            error = f"无法比较:{exc}"
    counts: dict[str, int] = {}
    for c in changes or []:
        counts[c.change] = counts.get(c.change, 0) + 1
    return web.page(
        request,
        "diff.html",
        nav="diff",
        runs=runs,
        a=a,
        b=b,
        changes=(changes or [])[:DIFF_LIMIT],
        n_changes=len(changes or []),
        counts=counts,
        error=error,
        limit=DIFF_LIMIT,
        computed=changes is not None,
    )


def routes() -> list[Route]:
    return [
        Route("/records/{record_id:str}", record_page),
        Route("/records/{record_id:str}/letter", letter_page, methods=["GET"]),
        Route("/records/{record_id:str}/letter", letter_issue, methods=["POST"]),
        Route("/records/{record_id:str}/letter/preview", letter_preview),
        Route("/notices", notices_page, methods=["GET"]),
        Route("/notices", notice_issue, methods=["POST"]),
        Route("/notices/preview", notice_preview),
        Route("/diff", diff_page),
    ]
