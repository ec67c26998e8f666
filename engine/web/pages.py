"""The workbench's pages: what every handler shares, signing in and out, and the table of routes.

Each handler: who may (auth.require), what it reads or does, which template. The pages live by group:
upload and evaluation jobs (upload_pages), runs and their results (run_pages), records, letters and
notices (documents), the policy, users and audit (policy_pages).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engine.store import accounts as acc
from engine.web import auth
from engine.web.app import Web, _audit, threaded

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


def routes() -> list[Route]:
    from engine.web import documents, policy_pages, run_pages, upload_pages

    return [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/upload", upload_pages.upload_page, methods=["GET"]),
        Route("/upload", upload_pages.upload_submit, methods=["POST"]),
        Route("/jobs/{job_id:int}", upload_pages.job_page),
        Route("/jobs/{job_id:int}.json", upload_pages.job_json),
        Route("/runs", run_pages.runs_page),
        Route("/runs/{run_id:int}", run_pages.run_page),
        Route("/runs/{run_id:int}/export.{fmt:str}", run_pages.export_run),
        *documents.routes(),
        *policy_pages.routes(),
    ]
