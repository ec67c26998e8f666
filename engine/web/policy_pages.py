"""政策条款 (the loaded packs, each measure's text, checks and thresholds over time), users, audit trail,
and loading a rule pack (authors)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engine.store import StoreError
from engine.store import accounts as acc
from engine.web import auth
from engine.web.app import Web, _audit, threaded
from engine.web.uploads import clean_filename

MAX_PACK_BYTES = 5 * 1024 * 1024


def W(request: Request) -> Web:
    return request.app.state.web


def _packs(web: Web, extra: tuple[str, ...] = ()) -> list[Any]:
    return [p.pack for p in web.policy(extra).packs]


def _loaded_pack_dirs(web: Web) -> list[str]:
    d = web.settings.data_dir / "packs"
    return [str(p) for p in sorted(d.iterdir()) if p.is_dir()] if d.is_dir() else []


async def policy_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    packs = await threaded(lambda: _packs(web, tuple(_loaded_pack_dirs(web))))
    return web.page(
        request,
        "policy.html",
        nav="policy",
        packs=packs,
        error=request.query_params.get("error"),
        loaded=request.query_params.get("loaded"),
    )


async def measure_page(request: Request) -> Response:
    auth.require(request)
    web = W(request)
    pack_id, number = request.path_params["pack_id"], int(request.path_params["measure"])
    packs = await threaded(lambda: _packs(web, tuple(_loaded_pack_dirs(web))))
    for p in packs:
        if p.meta.id == pack_id:
            for m in p.measures:
                if m.measure.measure == number:
                    return web.page(request, "measure.html", nav="policy", pack=p, m=m.measure)
    raise HTTPException(404, f"规则包 {pack_id} 中没有第 {number} 条")


async def pack_upload(request: Request) -> Response:
    """Authors load a rule pack: a zip of one pack folder (pack.yaml and its measure files), checked first."""
    account = auth.require(request, "author")
    web = W(request)
    form = await request.form(max_files=1)
    auth.check_csrf(request, form)
    upload = form.get("pack")
    if upload is None or not hasattr(upload, "read"):
        return RedirectResponse("/policy?error=请选择规则包压缩文件", status_code=303)
    data = await upload.read(MAX_PACK_BYTES + 1)
    if len(data) > MAX_PACK_BYTES:
        return RedirectResponse("/policy?error=规则包超过 5 MB", status_code=303)

    def install() -> str:
        from engine.policy.loader import load_pack
        from engine.policy.policy import load_policy

        with tempfile.TemporaryDirectory() as tmp:
            zpath = Path(tmp) / "pack.zip"
            zpath.write_bytes(data)
            try:
                z = zipfile.ZipFile(zpath)
            except zipfile.BadZipFile as exc:
                raise ValueError("不是 zip 压缩文件") from exc
            root = Path(tmp) / "pack"
            with z:
                if sum(i.file_size for i in z.infolist()) > 20 * MAX_PACK_BYTES:
                    raise ValueError("规则包解压后过大")
                for info in z.infolist():
                    if info.is_dir():
                        continue
                    parts = [p for p in Path(info.filename).parts if p not in ("", ".", "..", "/")]
                    if not parts or not parts[-1].endswith((".yaml", ".yml", ".txt", ".md")):
                        continue
                    target = root.joinpath(*[clean_filename(p) for p in parts])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(z.read(info))
            found = sorted(root.rglob("pack.yaml"))
            if not found:
                raise ValueError("压缩文件中没有 pack.yaml")
            folder = found[0].parent
            pack, errors = load_pack(folder)
            if pack is None or errors:
                raise ValueError("规则包有错误:" + ";".join(str(e) for e in errors[:5]))
            load_policy([folder])  # compiles with the built-in pack: ids must not clash
            dest = web.settings.data_dir / "packs" / clean_filename(pack.meta.id)
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(folder, dest)
            _audit(web, account.name, "pack_load", pack.meta.id, detail={"title": pack.meta.title})
            return pack.meta.id

    try:
        pack_id = await threaded(install)
    except Exception as exc:  # whatever is wrong with the pack is shown to its author
        msg = getattr(exc, "errors", None)
        text = "; ".join(str(e) for e in msg[:5]) if msg else str(exc)
        from urllib.parse import quote

        return RedirectResponse(f"/policy?error={quote(text[:500])}", status_code=303)
    from urllib.parse import quote

    return RedirectResponse(f"/policy?loaded={quote(pack_id)}", status_code=303)


# --- users and audit ------------------------------------------------------------------------------


async def users_page(request: Request) -> Response:
    auth.require(request, "admin")
    web = W(request)
    users = await threaded(acc.list_users, web.store)
    return web.page(
        request,
        "users.html",
        nav="users",
        users=users,
        error=request.query_params.get("error"),
        done=request.query_params.get("done"),
    )


async def users_submit(request: Request) -> Response:
    account = auth.require(request, "admin")
    web = W(request)
    form = await request.form()
    auth.check_csrf(request, form)
    action = str(form.get("action", ""))
    name = str(form.get("name", "")).strip()
    from urllib.parse import quote

    try:
        if action == "add":
            role = str(form.get("role", ""))
            await threaded(acc.create_user, web.store, name, role, str(form.get("password", "")))
            await threaded(_audit, web, account.name, "user_add", name, detail={"role": role})
        elif action == "update":
            new_role = str(form.get("role", "")) or None
            active = form.get("active") == "1"
            if name == account.name and (not active or new_role != "admin"):
                raise StoreError("不能停用自己或取消自己的管理员角色")
            await threaded(acc.update_user, web.store, name, role=new_role, active=active)
            await threaded(
                _audit, web, account.name, "user_update", name, detail={"role": new_role, "active": active}
            )
        elif action == "password":
            await threaded(acc.set_password, web.store, name, str(form.get("password", "")))
            await threaded(_audit, web, account.name, "user_update", name, detail="重设密码")
        else:
            raise StoreError("未知操作")
    except StoreError as exc:
        return RedirectResponse(f"/admin/users?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"/admin/users?done={quote(name)}", status_code=303)


async def audit_page(request: Request) -> Response:
    auth.require(request, "admin")
    web = W(request)
    q = request.query_params
    page = int(q["page"]) if q.get("page", "").isdigit() else 1
    events = await threaded(
        acc.list_events,
        web.store,
        limit=100,
        offset=(page - 1) * 100,
        user=q.get("user") or None,
        action=q.get("action") or None,
    )
    return web.page(
        request,
        "audit.html",
        nav="audit",
        events=events,
        page=page,
        user_filter=q.get("user") or "",
        action_filter=q.get("action") or "",
    )


def routes() -> list[Route]:
    return [
        Route("/policy", policy_page),
        Route("/policy/packs", pack_upload, methods=["POST"]),
        Route("/policy/{pack_id:str}/{measure:int}", measure_page),
        Route("/admin/users", users_page, methods=["GET"]),
        Route("/admin/users", users_submit, methods=["POST"]),
        Route("/admin/audit", audit_page),
    ]
