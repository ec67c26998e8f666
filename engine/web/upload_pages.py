"""The upload page and its evaluation jobs: a file in, a job queued, its progress shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine.store import accounts as acc
from engine.web import auth
from engine.web.app import Web, _audit, threaded
from engine.web.pages import W, form_checked, redirect
from engine.web.uploads import (
    UploadRefused,
    check_suffix,
    check_zip,
    clean_filename,
    estimate_rows,
    new_folder,
)


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


def job_view(job: acc.Job) -> dict[str, Any]:
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
        request, "job.html", nav="upload", job=job_view(job), created=job.created_at, user_name=job.user_name
    )


async def job_json(request: Request) -> Response:
    auth.require(request)
    job = await threaded(_job_or_404, W(request), int(request.path_params["job_id"]))
    v = job_view(job)
    v["errors"] = len(v["errors"])
    return JSONResponse(v)
