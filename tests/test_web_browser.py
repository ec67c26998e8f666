"""The workbench in a real browser (issue 17): headless Chromium from Debian driven by Selenium.

One server for the module (uvicorn in a thread, SQLite store in tmp). The walk: log in, upload
samples/projects-2025.xlsx, see the counts, filter to 不符合, open a record, download its PDF letter
and read its text, see a reviewer refused an officer's action, log out. Every page is screenshotted
under the test's tmp_path; with COMPLIANCE_UPDATE_SCREENSHOTS=1 two of them are copied to docs/img/.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "projects-2025.xlsx"
PASSWORD = "审查密码-2025"

pytestmark = pytest.mark.skipif(
    not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from engine.store import Store
    from engine.store.accounts import create_user
    from engine.web.app import create_app
    from engine.web.settings import WebSettings
    from engine.web.testing import serving

    d = tmp_path_factory.mktemp("web")
    store = Store(f"sqlite:///{d / 'store.db'}")
    create_user(store, "王签发", "officer", PASSWORD)
    create_user(store, "李审查", "reviewer", PASSWORD)
    app = create_app(WebSettings(secret_key="browser-test-key-" + "x" * 32, data_dir=d / "data"), store)
    with serving(app) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from engine.web.testing import chrome

    downloads = tmp_path_factory.mktemp("downloads")
    driver = chrome(str(downloads))
    driver.downloads = downloads
    yield driver
    driver.quit()


class Walk:
    def __init__(self, driver, base: str, out: Path):
        self.d, self.base, self.out, self.n = driver, base, out, 0

    def go(self, path: str) -> None:
        self.d.get(self.base + path)

    def el(self, css: str, timeout: float = 20):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.d, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text(self) -> str:
        return self.d.find_element("tag name", "body").text

    def shot(self, name: str) -> Path:
        self.n += 1
        path = self.out / f"{self.n:02d}-{name}.png"
        self.d.set_window_size(
            1366, max(900, min(3000, self.d.execute_script("return document.documentElement.scrollHeight")))
        )
        self.d.save_screenshot(str(path))
        self.d.set_window_size(1366, 900)
        return path

    def login(self, name: str) -> None:
        self.go("/login")
        self.el("input[name=username]").send_keys(name)
        self.d.find_element("css selector", "input[name=password]").send_keys(PASSWORD)
        self.d.find_element("css selector", "#login").click()
        self.el("form.who")

    def logout(self) -> None:
        self.d.find_element("css selector", "form.who button").click()
        self.el("#login")


def _wait_for_file(folder: Path, suffix: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done and not any(p.suffix == ".crdownload" for p in folder.iterdir()):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded into {folder}: {list(folder.iterdir())}")


def test_walk_upload_results_record_letter_refusal_logout(site, browser, tmp_path):
    import pdfplumber
    from selenium.webdriver.support.ui import Select

    w = Walk(browser, site, tmp_path)
    shots: dict[str, Path] = {}

    # Not logged in: sent to the login page.
    w.go("/runs")
    assert "/login" in browser.current_url
    shots["login"] = w.shot("login")
    w.login("王签发")

    # Upload the sample sheet; the job page follows the evaluation and then shows the results.
    w.go("/upload")
    shots["upload"] = w.shot("upload")
    w.el("#file").send_keys(str(SAMPLE))
    browser.find_element("css selector", "#evaluate").click()
    w.el("#counts", timeout=60)
    assert "/runs/" in browser.current_url
    body = w.text()
    assert "审查结果" in body and "评价人 王签发" in body
    counts = {
        e.get_attribute("data-status"): int(e.find_element("css selector", ".n").text)
        for e in browser.find_elements("css selector", "#counts a.count")
    }
    assert counts["non_compliant"] > 0 and counts["compliant"] > 0
    shots["results"] = w.shot("results")

    # Filter to 不符合: every finding listed is 不符合, as many as the count says.
    Select(browser.find_element("css selector", "select[name=status]")).select_by_visible_text("不符合")
    w.el("select[name=status] option[value=non_compliant][selected]")
    assert "status=non_compliant" in browser.current_url
    statuses = {e.text for e in browser.find_elements("css selector", "#findings td .st")}
    assert statuses == {"不符合"}
    assert f"符合条件的结论 {counts['non_compliant']} 项" in w.text()
    shots["filtered"] = w.shot("filtered")

    # Open the first record: its checks with source sentences, and its history.
    link = browser.find_element("css selector", "#findings tbody tr td a")
    record_id = link.text
    link.click()
    w.el("#to-letter")
    body = w.text()
    assert f"记录详情 · {record_id}" in body and "原文" in body and "历次评价" in body and "阈值" in body
    shots["record"] = w.shot("record")

    # The letter: previewed in HTML, then issued as PDF; the PDF is the letter of that record.
    browser.find_element("css selector", "#to-letter").click()
    w.el("iframe.preview")
    time.sleep(1)
    shots["letter"] = w.shot("letter")
    browser.find_element("css selector", "#issue-pdf").click()
    pdf = _wait_for_file(browser.downloads, ".pdf")
    with pdfplumber.open(pdf) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    compact = "".join(text.split())
    assert "菏城审" in compact and "号" in compact and record_id in compact
    assert "审查意见书" in compact or "意见书" in compact
    w.logout()

    # A reviewer may preview but not issue: the officer's action is refused.
    w.login("李审查")
    w.go(f"/records/{record_id}/letter")
    w.el("#issue-pdf").click()
    w.el("p.alert")
    body = w.text()
    assert "权限不足" in body and "签发人" in body
    shots["refused"] = w.shot("refused")
    w.logout()
    assert "/login" in browser.current_url
    w.go("/runs")
    assert "/login" in browser.current_url

    if os.environ.get("COMPLIANCE_UPDATE_SCREENSHOTS"):
        img = ROOT / "docs" / "img"
        img.mkdir(exist_ok=True)
        from PIL import Image

        for key, name in (("results", "web-results.png"), ("record", "web-record.png")):
            with Image.open(shots[key]) as im:  # the top of the page, as a screen shows it
                im.crop((0, 0, im.width, min(im.height, 1000))).save(img / name, optimize=True)
    assert all(p.stat().st_size > 10_000 for p in shots.values())
