"""The workbench's defences (issue 17 point 6), through Starlette's TestClient (no browser needed)."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "long-enough-password"
pytest.importorskip("httpx")


def _app(tmp_path, **settings):
    from engine.store import Store
    from engine.store.accounts import create_user
    from engine.web.app import create_app
    from engine.web.settings import WebSettings

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    for name, role in (
        ("reviewer1", "reviewer"),
        ("reviewer2", "reviewer"),
        ("officer", "officer"),
        ("admin", "admin"),
    ):
        create_user(store, name, role, PASSWORD)
    return create_app(WebSettings(secret_key="s" * 48, data_dir=tmp_path / "data", **settings), store)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _app(tmp_path_factory.mktemp("websec"))


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app) as c:
        yield c


def _login(client, name="reviewer1"):
    from engine.web.testing import log_in

    return log_in(client, name, PASSWORD)


PAGES = [
    "/",
    "/runs",
    "/runs/1",
    "/runs/1/export.csv",
    "/upload",
    "/jobs/1",
    "/records/HZ-2025-001",
    "/records/HZ-2025-001/letter",
    "/records/HZ-2025-001/letter/preview",
    "/notices",
    "/diff",
    "/policy",
    "/policy/heze-2024/9",
    "/admin/users",
    "/admin/audit",
]


@pytest.mark.parametrize("path", PAGES)
def test_unauthenticated_requests_are_sent_to_the_login_page(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_unauthenticated_posts_are_sent_to_the_login_page_too(client):
    for path in ("/upload", "/records/X/letter", "/notices", "/admin/users", "/policy/packs"):
        r = client.post(path, data={}, follow_redirects=False)
        assert r.status_code in (303, 403), path
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login")


def test_a_form_without_its_csrf_token_gets_403(client):
    from engine.web.testing import csrf_of

    # even the login form
    r = client.post("/login", data={"username": "reviewer1", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    _login(client, "admin")
    for path, data in (
        ("/logout", {}),
        ("/admin/users", {"action": "add", "name": "x", "role": "admin", "password": PASSWORD}),
        (
            "/admin/users",
            {"action": "add", "name": "x", "role": "admin", "password": PASSWORD, "csrf": "forged"},
        ),
    ):
        r = client.post(path, data=data, follow_redirects=False)
        assert r.status_code == 403, path
    r = client.post("/upload", files={"file": ("a.csv", b"x")}, follow_redirects=False)
    assert r.status_code == 403
    from engine.store.accounts import get_user

    assert get_user(client.app.state.store, "x") is None
    # the session is still logged in: a forged form does not log out
    assert client.get("/runs", follow_redirects=False).status_code == 200
    assert csrf_of(client.get("/runs").text)


def test_session_cookie_is_signed_httponly_samesite(client):
    r = client.get("/login")
    from engine.web.testing import csrf_of

    r = client.post(
        "/login",
        data={"username": "reviewer1", "password": PASSWORD, "csrf": csrf_of(r.text)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "compliance_session=" in cookie
    # a tampered cookie is no session
    value = client.cookies.get("compliance_session")
    client.cookies.set("compliance_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert client.get("/runs", follow_redirects=False).status_code == 303


def test_passwords_are_stored_as_argon2_hashes(app):
    from sqlalchemy import text

    with app.state.store.engine.connect() as conn:
        hashes = [h for (h,) in conn.execute(text("SELECT password_hash FROM users"))]
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_sessions_expire(tmp_path):
    from starlette.testclient import TestClient

    app = _app(tmp_path, session_seconds=1)
    with TestClient(app) as client:
        _login(client)
        assert client.get("/runs", follow_redirects=False).status_code == 200
        time.sleep(2.2)
        r = client.get("/runs", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_login_is_good_for_a_limited_time_however_busy(tmp_path):
    from starlette.testclient import TestClient

    app = _app(tmp_path, session_absolute_seconds=1)
    with TestClient(app) as client:
        _login(client)
        time.sleep(1.5)
        assert client.get("/runs", follow_redirects=False).status_code == 303


def test_repeated_failed_logins_are_slowed_down_and_lock_the_account(tmp_path):
    from starlette.testclient import TestClient

    from engine.store.accounts import LOCK_AFTER
    from engine.web.testing import csrf_of

    client = TestClient(_app(tmp_path))

    token = csrf_of(client.get("/login").text)
    times = []
    for _ in range(LOCK_AFTER):
        t = time.monotonic()
        r = client.post("/login", data={"username": "officer", "password": "wrong-password", "csrf": token})
        times.append(time.monotonic() - t)
        assert r.status_code in (401, 429) and "登录" in r.text
    assert times[-1] >= 1.0 > times[0]  # from the fourth failure on, each answer waits
    r = client.post(
        "/login", data={"username": "officer", "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    assert r.status_code == 429 and "秒后再试" in r.text  # the right password does not open a locked account
    r = client.get("/runs", follow_redirects=False)
    assert r.status_code == 303


def _csv(rows: list[dict[str, str]]) -> bytes:
    import csv

    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def _sample_rows() -> list[dict[str, str]]:
    import csv

    with (ROOT / "samples" / "projects-2024.csv").open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _name_column(rows):
    return next(k for k in rows[0] if k in ("项目名称", "名称", "name"))


def _id_column(rows):
    return next(k for k in rows[0] if k in ("项目编号", "编号", "id", "record_id"))


def test_a_script_in_an_uploaded_records_name_is_shown_as_text(app, client):
    from engine.web.testing import upload

    token = _login(client)
    rows = _sample_rows()[:2]
    rows[0][_name_column(rows)] = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    job = upload(client, app, token, "evil.csv", _csv(rows))
    run = re.search(r'href="/runs/(\d+)"', job.text).group(1)
    for path in (
        f"/runs/{run}",
        f"/records/{rows[0][_id_column(rows)]}?run={run}",
        f"/records/{rows[0][_id_column(rows)]}/letter/preview?run={run}",
    ):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html or "&lt;script" in html, path


def test_download_names_cannot_traverse_paths(app, client):
    from engine.web.app import download

    for evil in ("../../etc/passwd", "..\\..\\boot.ini", "/etc/shadow", 'a"; filename="x.exe'):
        cd = download(b"", evil, "application/pdf").headers["content-disposition"]
        name = cd.split('filename="')[1].split('"')[0]
        assert (
            "/" not in cd.split("filename*=")[0]
            and ".." not in name
            and "\\" not in cd
            and '"x.exe' not in cd
        )
    # a record whose id tries to climb out: its letter's name stays a plain file name
    token = _login(client, "officer")
    rows = _sample_rows()[:1]
    rows[0][_id_column(rows)] = "HZ-..\\..\\etc\\passwd"
    from engine.web.testing import upload

    job = upload(client, app, token, "../../../tmp/climb.csv", _csv(rows))
    assert "climb.csv" in job.text
    saved = list((app.state.settings.data_dir / "uploads").rglob("*.csv"))
    assert saved and all(p.resolve().is_relative_to(app.state.settings.data_dir.resolve()) for p in saved)
    run = re.search(r'href="/runs/(\d+)"', job.text).group(1)
    rid = rows[0][_id_column(rows)]
    from urllib.parse import quote

    r = client.post(
        f"/records/{quote(rid, safe='')}/letter", data={"csrf": token, "format": "pdf", "run": run}
    )
    assert r.status_code == 200, r.text.split("<main>")[1][:600]
    cd = r.headers["content-disposition"]
    assert (
        "/" not in cd.replace("%2F", "_").split("filename*=")[0]
        and "../" not in cd
        and r.content[:4] == b"%PDF"
    )


def _bomb(expanded: int) -> bytes:
    """A zip-bomb XLSX: a worksheet part of `expanded` bytes that deflates to almost nothing."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            block = b"0" * (1 << 20)
            for _ in range(expanded >> 20):
                f.write(block)
    return buf.getvalue()


def test_an_expansion_bomb_upload_is_refused(tmp_path):
    from starlette.testclient import TestClient

    from engine.store.accounts import list_jobs

    app = _app(tmp_path, max_expanded_bytes=8 * 1024 * 1024)
    data = _bomb(64 * 1024 * 1024)
    assert len(data) < 200_000
    with TestClient(app) as client:
        token = _login(client)
        r = client.post(
            "/upload", data={"csrf": token}, files={"file": ("bomb.xlsx", data)}, follow_redirects=False
        )
        assert r.status_code == 400 and "压缩炸弹" in r.text
        assert list_jobs(app.state.store) == []
        assert not list((tmp_path / "data" / "uploads").rglob("*.xlsx"))


def test_uploads_over_the_size_limit_and_of_other_types_are_refused(tmp_path):
    from starlette.testclient import TestClient

    app = _app(tmp_path, max_upload_bytes=10_000)
    with TestClient(app) as client:
        token = _login(client)
        r = client.post("/upload", data={"csrf": token}, files={"file": ("big.csv", b"a,b\n" * 10_000)})
        assert r.status_code == 413 and "上限" in r.text
        r = client.post("/upload", data={"csrf": token}, files={"file": ("x.exe", b"MZ")})
        assert r.status_code == 400 and "不支持的文件类型" in r.text


def test_reviewers_of_one_office_see_each_others_runs(app, client):
    """Decision (docs/web.md): one office works together, so every account sees every run and who made it."""
    from starlette.testclient import TestClient

    from engine.web.testing import upload

    token = _login(client, "reviewer1")
    job = upload(
        client, app, token, "projects-2025.xlsx", (ROOT / "samples" / "projects-2025.xlsx").read_bytes()
    )
    run = re.search(r'href="/runs/(\d+)"', job.text).group(1)
    with TestClient(app) as other:
        _login(other, "reviewer2")
        listing = other.get("/runs").text
        assert f'href="/runs/{run}"' in listing and "reviewer1" in listing
        page = other.get(f"/runs/{run}")
        assert page.status_code == 200 and "评价人 <strong>reviewer1</strong>" in page.text


def test_a_reviewer_cannot_issue_letters_notices_or_manage_users(app, client):
    token = _login(client, "reviewer1")
    for path, data in (
        ("/records/HZ-2025-001/letter", {"format": "pdf"}),
        ("/notices", {"format": "pdf"}),
        ("/admin/users", {"action": "add"}),
        ("/policy/packs", {}),
    ):
        r = client.post(path, data={"csrf": token, **data})
        assert r.status_code == 403 and "权限不足" in r.text, path
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_security_headers_and_no_external_assets(client):
    _login(client)
    r = client.get("/upload")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r'(src|href)="(https?:)?//', r.text)  # no CDN: every asset is served by the app
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_the_login_page_only_redirects_within_the_site(client):
    from engine.web.testing import csrf_of

    token = csrf_of(client.get("/login").text)
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        r = client.post(
            "/login",
            data={"username": "reviewer1", "password": PASSWORD, "csrf": token, "next": evil},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)
