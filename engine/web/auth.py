"""Who is asking: the signed session, the CSRF token of every form, the role a page needs.

The session is Starlette's SessionMiddleware: a cookie signed with itsdangerous (HttpOnly, SameSite=Lax,
Secure behind TLS) whose signature carries its time, so it expires ``session_seconds`` after the last
request; besides, a login is good for ``session_absolute_seconds`` at most. The account is read from the
store on every request: a role taken away or an account disabled takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from engine.store.accounts import ROLE_ZH, Account, get_user, role_at_least

CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """Raised by a page that needs a user; the app answers with a redirect to the login page."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, form: FormData) -> None:
    expected = request.session.get("csrf")
    given = form.get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise HTTPException(403, "表单已失效或缺少校验码(CSRF),请刷新页面后重试")


def login(request: Request, account: Account) -> None:
    request.session.clear()
    request.session.update({"user": account.name, "t": int(time.time()), "csrf": secrets.token_urlsafe(32)})


def logout(request: Request) -> None:
    request.session.clear()


def current_user(request: Request) -> Account | None:
    cached = getattr(request.state, "account", "unset")
    if cached != "unset":
        return cached  # type: ignore[return-value]
    account = None
    name = request.session.get("user")
    started = request.session.get("t", 0)
    settings = request.app.state.settings
    if name and time.time() - started <= settings.session_absolute_seconds:
        account = get_user(request.app.state.store, name)
        if account is not None and not account.active:
            account = None
    if account is None and name:
        request.session.clear()
    request.state.account = account
    return account


def require(request: Request, role: str = "reviewer") -> Account:
    account = current_user(request)
    if account is None:
        raise LoginRequired()
    if not role_at_least(account.role, role):
        raise HTTPException(
            403, f"权限不足:此操作需要“{ROLE_ZH[role]}”或更高角色,您的角色是“{account.role_zh}”"
        )
    return account


def can(account: Any, role: str) -> bool:
    return account is not None and role_at_least(account.role, role)
