"""The workbench's pages through Starlette's TestClient: results, record history, letters (number
given once), notices for a town, a county and the city, the diff, policy pages, exports, users, audit."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
PASSWORD = "long-enough-password"
pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One store with two runs of the 2024 projects (the second with a changed row) and the reports."""
    from starlette.testclient import TestClient

    from engine.store import Store
    from engine.store.accounts import create_user
    from engine.web.app import create_app
    from engine.web.settings import WebSettings
    from engine.web.testing import log_in, upload

    d = tmp_path_factory.mktemp("webpages")
    store = Store(f"sqlite:///{d / 'store.db'}")
    create_user(store, "officer", "officer", PASSWORD)
    create_user(store, "admin", "admin", PASSWORD)
    create_user(store, "reviewer", "reviewer", PASSWORD)
    app = create_app(WebSettings(secret_key="p" * 48, data_dir=d / "data", page_size=10), store)
    client = TestClient(app)
    token = log_in(client, "officer", PASSWORD)
    runs = {}
    text = (SAMPLES / "projects-2024.csv").read_text(encoding="utf-8-sig")
    for key, data in (
        ("first", text),
        ("second", text.replace('"30,000",150', '"30,000",300', 1)),
        ("towns", (SAMPLES / "towns.yaml").read_text(encoding="utf-8")),
        ("reports", (SAMPLES / "m00-08-reports.yaml").read_text(encoding="utf-8")),
    ):
        name = "towns.yaml" if key == "towns" else "reports.yaml" if key == "reports" else "projects-2024.csv"
        page = upload(client, app, token, name, data.encode("utf-8"), as_of="2026-03-31")
        m = re.search(r'href="/runs/(\d+)"', page.text)
        assert m, page.text
        runs[key] = int(m.group(1))
    yield app, client, token, runs
    client.close()
    store.close()


def test_results_count_filter_and_paginate(site):
    app, client, _, runs = site
    html = client.get(f"/runs/{runs['first']}").text
    counts = dict(re.findall(r'data-status="(\w+)"><span class="n">(\d+)</span>', html))
    total = int(re.search(r"符合条件的结论 (\d+) 项", html).group(1))
    assert total == sum(int(v) for v in counts.values()) and int(counts["non_compliant"]) > 0
    bad = client.get(f"/runs/{runs['first']}?status=non_compliant").text
    assert f"符合条件的结论 {counts['non_compliant']} 项" in bad
    assert set(re.findall(r'<span class="st st-(\w+)">', bad.split('id="findings"')[1])) == {"non_compliant"}
    # page size 10: page 2 exists and differs from page 1
    p1 = client.get(f"/runs/{runs['first']}?page=1").text.split('id="findings"')[1]
    p2 = client.get(f"/runs/{runs['first']}?page=2").text.split('id="findings"')[1]
    assert "第 2 /" in client.get(f"/runs/{runs['first']}?page=2").text and p1 != p2
    # by county, measure, kind and review flag
    曹县 = client.get(f"/runs/{runs['first']}?county=曹县").text
    n_cx = int(re.search(r"符合条件的结论 (\d+) 项", 曹县).group(1))
    assert 0 < n_cx < total
    m9 = client.get(f"/runs/{runs['first']}?measure=9").text
    assert set(re.findall(r"<td>第(\d+)条</td>", m9)) == {"9"}
    assert "符合条件的结论 0 项" in client.get(f"/runs/{runs['first']}?kind=town").text
    rv = int(
        re.search(r"符合条件的结论 (\d+) 项", client.get(f"/runs/{runs['first']}?review=1").text).group(1)
    )
    nrv = int(
        re.search(r"符合条件的结论 (\d+) 项", client.get(f"/runs/{runs['first']}?review=0").text).group(1)
    )
    assert rv + nrv == total


def test_exports_in_xlsx_and_csv_follow_the_filters(site):
    from openpyxl import load_workbook

    app, client, _, runs = site
    r = client.get(f"/runs/{runs['first']}/export.csv?status=non_compliant")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["批次", "记录类型", "记录编号"] and len(rows) > 1
    assert {row[13] for row in rows[1:]} == {"不符合"}
    r = client.get(f"/runs/{runs['first']}/export.xlsx")
    ws = load_workbook(io.BytesIO(r.content), read_only=True).active
    data = list(ws.values)
    assert data[0][13] == "结论" and len(data) > len(rows)
    assert client.get(f"/runs/{runs['first']}/export.exe").status_code == 404


def test_record_detail_shows_every_check_and_the_history_across_runs(site):
    app, client, _, runs = site
    html = client.get(f"/records/HZ-2024-001?run={runs['second']}").text
    assert "记录详情 · HZ-2024-001" in html and "曹县汉服文化产业园二期" in html
    for word in ("数值", "阈值", "原文", "解读", "万元/亩"):
        assert word in html, word
    history = html.split("历次评价")[1]
    assert f"第 {runs['first']} 次" in history and f"第 {runs['second']} 次" in history
    assert "首次评价" in history and ("→" in history)  # what changed in the second run
    assert client.get("/records/NO-SUCH").status_code == 404


def test_letters_preview_then_pdf_and_docx_with_one_number(site):
    from docx import Document

    app, client, token, runs = site
    page = client.get(f"/records/HZ-2024-002/letter?run={runs['second']}")
    assert page.status_code == 200 and "出具并下载 PDF" in page.text
    preview = client.get(f"/records/HZ-2024-002/letter/preview?run={runs['second']}").text
    assert "审查意见书" in preview and "出具时编号" in preview
    first = client.post(
        "/records/HZ-2024-002/letter", data={"csrf": token, "format": "docx", "run": str(runs["second"])}
    )
    assert first.status_code == 200 and first.content[:2] == b"PK"
    text = "\n".join(p.text for p in Document(io.BytesIO(first.content)).paragraphs)
    number = re.search(r"菏城审〔\d{4}〕\d+号", text).group(0)
    again = client.post(
        "/records/HZ-2024-002/letter", data={"csrf": token, "format": "pdf", "run": str(runs["second"])}
    )
    assert again.content[:4] == b"%PDF"
    from urllib.parse import quote

    assert quote(number) in again.headers["content-disposition"]  # the same judgement keeps its number
    detail = client.get(f"/records/HZ-2024-002?run={runs['second']}").text
    assert detail.count(number) >= 2  # listed among the issued letters, DOCX and PDF


def test_notices_for_a_town_a_county_and_the_city(site):
    app, client, token, runs = site
    for scope, name in (("town", "单县浮岗镇"), ("county", "曹县"), ("city", "菏泽市")):
        page = client.get("/notices", params={"scope": scope, "name": name})
        assert page.status_code == 200 and "alert" not in page.text, page.text.split("<main>")[1][:400]
        preview = client.get("/notices/preview", params={"scope": scope, "name": name})
        assert "达标情况通报" in preview.text and name in preview.text
        pdf = client.post("/notices", data={"csrf": token, "scope": scope, "name": name, "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    missing = client.get("/notices", params={"scope": "town", "name": "不存在镇"}).text
    assert "没有评价批次审查过" in missing


def test_diff_between_two_runs(site):
    app, client, _, runs = site
    html = client.get("/diff", params={"a": runs["first"], "b": runs["second"]}).text
    m = re.search(r"变化 (\d+) 项,新增 (\d+) 项,移除 (\d+) 项", html)
    assert m and int(m.group(1)) >= 1
    assert "HZ-2024-001" in html.split('id="diff-summary"')[1]


def test_policy_pages_show_packs_measures_checks_and_thresholds_over_time(site):
    app, client, _, _ = site
    html = client.get("/policy").text
    assert "菏政发〔2024〕11号" in html and "第9条" in html
    m9 = client.get("/policy/heze-2024/9").text
    assert "开展小城镇提升行动" in m9 and "阈值随时间的变化" in m9 and "亩均投资" in m9
    assert "200" in m9.split("阈值随时间的变化")[1]
    assert client.get("/policy/heze-2024/999").status_code == 404


def test_rejected_rows_are_listed_with_file_row_and_field(site):
    from engine.web.testing import upload

    app, client, token, _ = site
    text = (SAMPLES / "projects-2024.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    bad = lines[2].replace('"26,000"', "很多", 1)
    page = upload(client, app, token, "bad-rows.csv", "\n".join([lines[0], lines[1], bad]).encode("utf-8"))
    assert "拒收" in page.text
    html = page.text
    run = re.search(r'href="/runs/(\d+)"', html)
    body = client.get(f"/runs/{run.group(1)}").text if run else html
    section = body.split("拒收的行")[1] if "拒收的行" in body else html.split("拒收的行")[1]
    assert (
        "bad-rows.csv" in section
        and "<td>3</td>" in section
        and ("total_investment" in section or "总投资" in section)
    )


def test_admin_adds_a_user_and_the_audit_trail_names_who_did_what(site):
    from starlette.testclient import TestClient

    from engine.web.testing import log_in

    app, _, _, runs = site
    with TestClient(app) as admin:
        token = log_in(admin, "admin", PASSWORD)
        r = admin.post(
            "/admin/users",
            data={"csrf": token, "action": "add", "name": "新同事", "role": "reviewer", "password": PASSWORD},
            follow_redirects=True,
        )
        assert "已保存:新同事" in r.text
        with TestClient(app) as newcomer:
            log_in(newcomer, "新同事", PASSWORD)
        audit = admin.get("/admin/audit").text
        for line in ("新增用户", "出具意见书", "评价", "登录"):
            assert line in audit, line
        evaluated = admin.get("/admin/audit", params={"action": "evaluate"}).text
        assert "officer" in evaluated and "projects-2024.csv" in evaluated
        letters = admin.get("/admin/audit", params={"action": "letter"}).text
        assert "officer" in letters and "HZ-2024-002" in letters


def test_runs_record_the_logged_in_user_as_reviewer(site):
    from engine.store import list_runs

    app, _, _, runs = site
    assert {r.reviewer for r in list_runs(app.state.store) if r.id in runs.values()} == {"officer"}


def test_compliance_users_add_creates_an_account_that_can_log_in(tmp_path):
    from click.testing import CliRunner

    from engine.cli import main
    from engine.store import Store
    from engine.store.accounts import authenticate

    url = f"sqlite:///{tmp_path / 'c.db'}"
    r = CliRunner().invoke(
        main, ["users", "add", "张三", "--role", "admin", "--password", PASSWORD, "--db", url]
    )
    assert r.exit_code == 0, r.output
    again = CliRunner().invoke(
        main, ["users", "add", "张三", "--role", "admin", "--password", PASSWORD, "--db", url]
    )
    assert again.exit_code != 0 and "已存在" in again.output
    bad = CliRunner().invoke(
        main, ["users", "add", "李四", "--role", "boss", "--password", PASSWORD, "--db", url]
    )
    assert bad.exit_code != 0
    with Store(url) as store:
        assert authenticate(store, "张三", PASSWORD).account.role == "admin"


def test_the_progress_of_a_large_upload_updates_while_it_evaluates(site):
    """A file of several chunks: the job's figures grow chunk by chunk before it is done."""
    import sys
    import time

    sys.path.insert(0, str(ROOT / "bench"))
    from gen import write_projects_csv

    app, client, token, _ = site
    path = write_projects_csv(Path(app.state.settings.data_dir) / "big.csv", 9000)
    r = client.post(
        "/upload",
        data={"csrf": token},
        files={"file": ("big.csv", path.read_bytes())},
        follow_redirects=False,
    )
    job = r.headers["location"]
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        j = client.get(job + ".json").json()
        seen.append((j["status"], j["n_read"], j["percent"]))
        if j["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert seen[-1][0] == "done" and seen[-1][2] == 100, seen[-3:]
    partial = {n for status, n, _ in seen if status == "running" and 0 < n < 9000}
    assert partial, seen  # at least one figure between the start and the end
    assert any(p is not None and 0 < p < 100 for _, _, p in seen)
    assert "<progress" in client.get(job).text


def _zip_folder(folder: Path) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"pack/{p.relative_to(folder)}")
    return buf.getvalue()


def test_an_author_loads_a_rule_pack_and_reviewers_can_choose_it(tmp_path):
    from starlette.testclient import TestClient

    from engine.store import Store
    from engine.store.accounts import create_user
    from engine.web.app import create_app
    from engine.web.settings import WebSettings
    from engine.web.testing import log_in

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    create_user(store, "author", "author", PASSWORD)
    create_user(store, "officer", "officer", PASSWORD)
    app = create_app(WebSettings(secret_key="a" * 48, data_dir=tmp_path / "data"), store)
    with TestClient(app) as officer:
        token = log_in(officer, "officer", PASSWORD)
        r = officer.post(
            "/policy/packs",
            data={"csrf": token},
            files={"pack": ("p.zip", _zip_folder(ROOT / "tests" / "packs" / "logic"))},
        )
        assert r.status_code == 403  # officers do not load rule packs
    with TestClient(app) as author:
        token = log_in(author, "author", PASSWORD)
        broken = tmp_path / "broken"
        broken.mkdir()
        (broken / "pack.yaml").write_text("id: x\ntitle: 坏的\n", encoding="utf-8")
        r = author.post("/policy/packs", data={"csrf": token}, files={"pack": ("b.zip", _zip_folder(broken))})
        assert "alert" in r.text and "/data/packs" not in r.text
        assert not (tmp_path / "data" / "packs").exists()
        r = author.post(
            "/policy/packs",
            data={"csrf": token},
            files={"pack": ("p.zip", _zip_folder(ROOT / "tests" / "packs" / "logic"))},
        )
        assert "已加载规则包 test-logic" in r.text, r.text.split("<main>")[1][:600]
        assert "测试政策包" in author.get("/policy").text
        assert "测试政策包" in author.get("/upload").text
    store.close()


def test_yes_no_standards_read_in_words_on_the_results_and_record_pages(site):
    app, client, _, runs = site
    results = client.get(f"/runs/{runs['first']}").text
    record = client.get(f"/records/HZ-2024-001?run={runs['first']}").text
    for html in (results, record):
        assert "应为 是" in html
        assert "等于 是" not in html and "True" not in html and "False" not in html
    assert "不低于" in record  # numeric standards keep their words too
