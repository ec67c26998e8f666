"""The workbench application: create_app(settings) -> a Starlette ASGI app for uvicorn."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from engine.evaluation.findings import threshold_text
from engine.policy.policy import Policy
from engine.policy.terms import NATURE_ZH, OP_ZH, STATUS_ZH
from engine.store import Store
from engine.store.accounts import ROLE_ZH, ROLES
from engine.web import auth
from engine.web.settings import WebSettings

HERE = Path(__file__).parent
log = logging.getLogger("engine.web")
KIND_ZH = {
    "project": "项目",
    "town": "镇街",
    "county": "县区",
    "city": "市",
    "enterprise": "企业",
    "department": "部门",
}
ACTION_ZH = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "upload": "上传",
    "evaluate": "评价",
    "evaluate_failed": "评价失败",
    "letter": "出具意见书",
    "notice": "出具通报",
    "export": "导出",
    "user_add": "新增用户",
    "user_update": "修改用户",
    "pack_load": "加载规则包",
    "refused": "越权被拒",
}


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        from engine.render.numbers_zh import plain

        return plain(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        return v.astimezone().strftime("%Y-%m-%d %H:%M")
    return str(v)


def _num(v: Any, against: Any = None) -> str:
    """A judged value for display: two decimals, unless that would make it look equal to its threshold."""
    if isinstance(v, Decimal) and not isinstance(v, bool):
        from engine.render.numbers_zh import plain

        return plain(v, exact_against=against if isinstance(against, Decimal) else None)
    return _fmt(v)


def _standard(threshold: Any, op: str | None) -> str:
    """不低于 200, or for a yes/no duty 应为 是 (never 等于 是): the standard as a reviewer reads it."""
    return threshold_text(op, threshold, number=_fmt) or "—"


def _basename(v: Any) -> str:
    """An uploaded file's own name, without the server's folders (a source may add 第N行 or [sheet])."""
    if not v:
        return "—"
    return str(v).replace("\\", "/").rsplit("/", 1)[-1]


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    env.filters["num"] = _num
    env.filters["standard"] = _standard
    env.filters["basename"] = _basename
    env.globals.update(
        STATUS_ZH=STATUS_ZH,
        NATURE_ZH=NATURE_ZH,
        OP_ZH=OP_ZH,
        ROLE_ZH=ROLE_ZH,
        ROLES=ROLES,
        KIND_ZH=KIND_ZH,
        ACTION_ZH=ACTION_ZH,
        can=auth.can,
    )
    return env


class Web:
    """What every page needs: the store, the settings, the loaded policy, the job runner."""

    def __init__(self, settings: WebSettings, store: Store):
        self.settings, self.store = settings, store
        self.env = _env()
        self._policies: dict[tuple[str, ...], Policy] = {}
        self._lock = threading.Lock()
        self.runner: Any = None
        self.pack_choices: tuple[Any, list[dict[str, Any]]] | None = None
        self.failures_by_ip: dict[str, list[float]] = defaultdict(list)  # failed logins, to slow them down

    def policy(self, extra: list[str] | tuple[str, ...] = ()) -> Policy:
        from engine.policy.cache import load_policy_cached
        from engine.policy.config import pack_dirs

        key = tuple(sorted({*self.settings.rules_dirs, *extra}))
        with self._lock:
            if key not in self._policies:
                dirs: list[str | Path] = [*pack_dirs(key)]
                self._policies[key] = load_policy_cached(dirs)
            return self._policies[key]

    def page(self, request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        user = auth.current_user(request)
        html = self.env.get_template(template).render(
            request=request, user=user, csrf=auth.csrf_token(request), nav=ctx.pop("nav", ""), **ctx
        )
        return HTMLResponse(html, status_code=status_code)


def url_with(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    for k, v in changes.items():
        if v in (None, ""):
            params.pop(k, None)
        else:
            params[k] = str(v)
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


def download(data: bytes, filename: str, media_type: str) -> Response:
    """A file to save: the name is made safe (no folders, no quotes) and also given in UTF-8 (RFC 6266)."""
    from engine.web.uploads import clean_filename

    name = clean_filename(filename)
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        },
    )


async def threaded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(partial(fn, *args, **kwargs))


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


class SecurityHeaders:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS.items():
                    if k.lower().encode() not in present:
                        headers.append((k.lower().encode(), v.encode()))
                if scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"public, max-age=3600"))
                else:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with)


def create_app(settings: WebSettings | None = None, store: Store | None = None) -> Starlette:
    from engine.web import pages

    settings = settings or WebSettings()
    store = store or Store(settings.db, create=True)
    web = Web(settings, store)
    web.runner = pages.make_runner(web)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': nxt})}", status_code=303)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        exc = error
        if exc.status_code == 403:
            account = auth.current_user(request)
            if account is not None and "权限不足" in str(exc.detail):
                await threaded(_audit, web, account.name, "refused", request.url.path)
        titles = {403: "禁止访问", 404: "未找到", 405: "方法不允许", 413: "文件过大", 400: "请求有误"}
        return web.page(
            request,
            "error.html",
            status_code=exc.status_code,
            title=titles.get(exc.status_code, "出错了"),
            message=exc.detail,
        )

    routes = [*pages.routes(), Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret(),
                session_cookie="compliance_session",
                max_age=settings.session_seconds,
                same_site="lax",
                https_only=settings.https_only,
            ),
        ],
        exception_handlers={auth.LoginRequired: on_login_required, HTTPException: on_http_error},
    )
    app.state.web = web
    app.state.settings = settings
    app.state.store = store
    return app


SETTINGS_ENV = "COMPLIANCE_WEB_SETTINGS"


def app_from_env() -> Starlette:
    """The app of one of several server processes (`compliance serve --workers N`): settings from the env."""
    import json
    import os

    raw = json.loads(os.environ[SETTINGS_ENV])
    raw["data_dir"] = Path(raw["data_dir"])
    raw["rules_dirs"] = tuple(raw["rules_dirs"])
    from engine.web.queries import warm_up

    app = create_app(WebSettings(**raw))
    app.state.web.policy()
    warm_up(app.state.store)
    return app


def _audit(web: Web, user: str | None, action: str, target: str = "", **kw: Any) -> None:
    from engine.store.accounts import record_event

    record_event(web.store, user, action, target, **kw)
