"""Accounts, the audit trail and web evaluations (tables of migration 0005_accounts).

Passwords are kept only as argon2id hashes (argon2-cffi). Repeated failed logins lock the account for a
while that doubles with each further failure (``LOCK_AFTER``, ``lock_seconds``); a successful login
clears the count. Every action of the workbench is written to ``audit_events`` with its user.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlmodel import col

from engine.store.database import StoreError
from engine.store.models import AuditEvent, User, WebJob
from engine.store.store import Store

ROLES = ("reviewer", "officer", "author", "admin")
ROLE_ZH = {"reviewer": "审查员", "officer": "签发人", "author": "规则编写人", "admin": "管理员"}
LOCK_AFTER = 5  # failures in a row before the account is locked for a while
MAX_LOCK_SECONDS = 900
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(v: dt.datetime | None) -> dt.datetime | None:
    if v is not None and v.tzinfo is None:
        return v.replace(tzinfo=dt.UTC)
    return v


def _utc_at(v: dt.datetime) -> dt.datetime:
    return v.replace(tzinfo=dt.UTC) if v.tzinfo is None else v


def role_at_least(role: str, needed: str) -> bool:
    """Each role may do what the roles before it in ROLES may."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def lock_seconds(failures: int) -> int:
    """How long the account stays locked after this many failures in a row (0 below LOCK_AFTER)."""
    if failures < LOCK_AFTER:
        return 0
    return min(MAX_LOCK_SECONDS, 2 ** (failures - LOCK_AFTER) * 30)


class Account(BaseModel):
    id: int
    name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    failed_logins: int
    locked_until: dt.datetime | None

    @property
    def role_zh(self) -> str:
        return ROLE_ZH.get(self.role, self.role)


def _account(u: User) -> Account:
    return Account(
        id=u.id or 0,
        name=u.name,
        role=u.role,
        active=bool(u.active),
        created_at=_utc_at(u.created_at),
        last_login_at=_utc(u.last_login_at),
        failed_logins=u.failed_logins,
        locked_until=_utc(u.locked_until),
    )


def check_password_rules(password: str) -> None:
    if len(password) < 8:
        raise StoreError("密码至少 8 个字符")


def create_user(store: Store, name: str, role: str, password: str) -> Account:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise StoreError("用户名须为 1 至 100 个字符,不含空白")
    if role not in ROLES:
        raise StoreError(f"未知角色 {role!r};可选:{', '.join(ROLES)}")
    check_password_rules(password)
    with store.write_session() as s:
        if s.execute(select(User).where(col(User.name) == name)).scalar() is not None:
            raise StoreError(f"用户 {name} 已存在")
        u = User(name=name, role=role, password_hash=_hasher.hash(password), created_at=_now())
        s.add(u)
        s.flush()
        return _account(u)


def set_password(store: Store, name: str, password: str) -> None:
    check_password_rules(password)
    with store.write() as conn:
        n = conn.execute(
            update(User.__table__)
            .where(User.__table__.c.name == name)
            .values(password_hash=_hasher.hash(password), failed_logins=0, locked_until=None)
        ).rowcount
    if not n:
        raise StoreError(f"没有用户 {name}")


def update_user(store: Store, name: str, *, role: str | None = None, active: bool | None = None) -> None:
    values: dict[str, Any] = {}
    if role is not None:
        if role not in ROLES:
            raise StoreError(f"未知角色 {role!r}")
        values["role"] = role
    if active is not None:
        values["active"] = int(active)
    if not values:
        return
    with store.write() as conn:
        n = conn.execute(
            update(User.__table__).where(User.__table__.c.name == name).values(**values)
        ).rowcount
    if not n:
        raise StoreError(f"没有用户 {name}")


def get_user(store: Store, name: str) -> Account | None:
    with store.session() as s:
        u = s.execute(select(User).where(col(User.name) == name)).scalar()
        return _account(u) if u is not None else None


def list_users(store: Store) -> list[Account]:
    with store.session() as s:
        return [_account(u) for u in s.execute(select(User).order_by(col(User.name))).scalars()]


def count_users(store: Store) -> int:
    with store.session() as s:
        return int(s.execute(select(func.count()).select_from(User.__table__)).scalar_one())


class LoginResult(BaseModel):
    account: Account | None = None
    locked_for: int = 0  # seconds until another attempt is allowed
    failures: int = 0


def authenticate(store: Store, name: str, password: str) -> LoginResult:
    """Check a password; count failures and lock the account after LOCK_AFTER of them in a row."""
    now = _now()
    with store.session() as s:
        u = s.execute(select(User).where(col(User.name) == name)).scalar()
    if u is None or not u.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return LoginResult()
    locked = _utc(u.locked_until)
    if locked is not None and locked > now:
        return LoginResult(locked_for=max(1, int((locked - now).total_seconds())), failures=u.failed_logins)
    ok: bool
    try:
        ok = _hasher.verify(u.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    t = User.__table__
    with store.write() as conn:
        if not ok:
            failures = int(conn.execute(select(t.c.failed_logins).where(t.c.id == u.id)).scalar_one()) + 1
            wait = lock_seconds(failures)
            conn.execute(
                update(t)
                .where(t.c.id == u.id)
                .values(
                    failed_logins=failures, locked_until=now + dt.timedelta(seconds=wait) if wait else None
                )
            )
            return LoginResult(locked_for=wait, failures=failures)
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if _hasher.check_needs_rehash(u.password_hash):
            values["password_hash"] = _hasher.hash(password)
        conn.execute(update(t).where(t.c.id == u.id).values(**values))
    return LoginResult(account=_account(u).model_copy(update={"last_login_at": now, "failed_logins": 0}))


# --- audit trail ----------------------------------------------------------------------------------


class Event(BaseModel):
    id: int
    at: dt.datetime
    user_name: str | None
    action: str
    target: str
    detail: str | None
    run_id: int | None


def record_event(
    store: Store,
    user: str | None,
    action: str,
    target: str = "",
    *,
    detail: Any = None,
    run_id: int | None = None,
) -> None:
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)
    with store.write() as conn:
        conn.execute(
            AuditEvent.__table__.insert().values(
                at=_now(), user_name=user, action=action[:40], target=target, detail=detail, run_id=run_id
            )
        )


def list_events(
    store: Store,
    *,
    limit: int = 200,
    offset: int = 0,
    user: str | None = None,
    action: str | None = None,
    run_id: int | None = None,
) -> list[Event]:
    t = AuditEvent.__table__
    q = select(t)
    if user:
        q = q.where(t.c.user_name == user)
    if action:
        q = q.where(t.c.action == action)
    if run_id is not None:
        q = q.where(t.c.run_id == run_id)
    with store.session() as s:
        return [
            Event(
                id=m["id"],
                at=_utc_at(m["at"]),
                user_name=m["user_name"],
                action=m["action"],
                target=m["target"],
                detail=m["detail"],
                run_id=m["run_id"],
            )
            for m in s.execute(q.order_by(t.c.id.desc()).limit(limit).offset(offset)).mappings()
        ]


# --- evaluations started from the web ------------------------------------------------------------


class Job(BaseModel):
    id: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    user_name: str
    filename: str
    paths: list[str]
    options: dict[str, Any]
    status: str
    total_rows: int | None
    n_read: int
    n_valid: int
    n_rejected: int
    run_id: int | None
    error: str | None

    @property
    def percent(self) -> int | None:
        if self.status == "done":
            return 100
        if not self.total_rows:
            return None
        return min(99, int(100 * self.n_read / self.total_rows))


def _job(j: WebJob) -> Job:
    return Job(
        id=j.id or 0,
        created_at=_utc_at(j.created_at),
        finished_at=_utc(j.finished_at),
        user_name=j.user_name,
        filename=j.filename,
        paths=json.loads(j.paths),
        options=json.loads(j.options),
        status=j.status,
        total_rows=j.total_rows,
        n_read=j.n_read,
        n_valid=j.n_valid,
        n_rejected=j.n_rejected,
        run_id=j.run_id,
        error=j.error,
    )


def create_job(
    store: Store,
    *,
    user: str,
    filename: str,
    paths: list[str],
    options: dict[str, Any],
    total_rows: int | None,
) -> Job:
    with store.write_session() as s:
        j = WebJob(
            created_at=_now(),
            user_name=user,
            filename=filename,
            paths=json.dumps(paths, ensure_ascii=False),
            options=json.dumps(options, ensure_ascii=False, default=str),
            status="queued",
            total_rows=total_rows,
        )
        s.add(j)
        s.flush()
        return _job(j)


def update_job(store: Store, job_id: int, **values: Any) -> None:
    if values.get("status") in ("done", "failed"):
        values.setdefault("finished_at", _now())
    with store.write() as conn:
        conn.execute(update(WebJob.__table__).where(WebJob.__table__.c.id == job_id).values(**values))


def get_job(store: Store, job_id: int) -> Job | None:
    with store.session() as s:
        j = s.get(WebJob, job_id)
        return _job(j) if j is not None else None


def list_jobs(store: Store, limit: int = 50) -> list[Job]:
    with store.session() as s:
        return [
            _job(j) for j in s.execute(select(WebJob).order_by(col(WebJob.id).desc()).limit(limit)).scalars()
        ]
