"""Setup from the browser, in Debian's Chromium: ``tierwise serve`` in an empty folder prints the
first admin's link; the admin creates the account, uploads the demo's GBK export with Chinese
headers, sees the detected mapping, sample rows and the rows that would be rejected, confirms,
watches the progress (the page's script polls the job), and finds the new run on the overview.
A file that is not a table gets a clear message on the page. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest

from _browser import artifact, browser_page
from _web_store import PASSWORD
from _serve import serving

pytestmark = pytest.mark.slow


@pytest.fixture
def empty_server(tmp_path: Path):
    """``tierwise serve`` started in an empty folder; yields its address, folder and the link."""
    log = tmp_path.parent / f"serve-{tmp_path.name}.log"
    with serving(cwd=tmp_path, log=log) as (base, _):
        link = re.search(r"(http://\S+/setup/first-admin\?code=[\w-]+)", log.read_text())
        assert link, log.read_text()
        yield base, tmp_path, link.group(1)


def test_an_owner_sets_up_from_the_browser(empty_server, tmp_path_factory) -> None:
    from tierwise.demo import generate_restaurant

    base, folder, link = empty_server
    exports = tmp_path_factory.mktemp("owner-desktop")
    generate_restaurant(exports, members=150, years=1, end=dt.date(2026, 3, 31))
    visits = exports / "visits.csv"
    visits.read_bytes().decode("gbk")  # GBK, with Chinese headers
    bad = exports / "会员照片.csv"
    bad.write_bytes(bytes(range(256)) * 50)
    assert not (folder / "tierwise.toml").exists()

    with browser_page(viewport={"width": 1280, "height": 1000}) as (page, errors):
        page.goto(link + "&lang=zh")
        page.fill("input[name=username]", "老板")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        page.click("#first-admin-submit")
        page.wait_for_url(f"{base}/setup")
        assert page.get_attribute("#signed-in-as", "data-role") == "admin"
        page.goto(f"{base}/")  # no run yet: the overview sends the admin to the setup page
        assert page.url == f"{base}/setup"

        # a file that is not a table: a clear message on the page, the form to try again
        page.select_option("#upload-kind", "orders")
        page.set_input_files("#upload-file", str(bad))
        page.click("#upload-submit")
        page.wait_for_selector("#setup-error")
        message = page.inner_text("#setup-error")
        assert "无法使用此文件" in message and "cannot tell the text encoding" in message
        assert "Traceback" not in page.content() and str(folder) not in message
        page.screenshot(path=artifact("setup-bad-file.png"), full_page=True)

        # the GBK export: what was detected, sample rows, what would be rejected
        page.set_input_files("#upload-file", str(visits))
        page.click("#upload-submit")
        page.wait_for_selector("#upload-preview")
        assert page.inner_text("#detected-encoding") in ("gbk", "gb18030")
        assert page.input_value("#col-customer_id") == "会员卡号"
        assert page.input_value("#col-ordered_at") == "消费时间"
        assert page.input_value("#col-amount") == "消费金额"
        first_row = visits.read_bytes().decode("gbk").splitlines()[1].split(",")
        cells = page.eval_on_selector_all("#sample-rows tbody tr:first-child td",
                                          "tds => tds.map(td => td.innerText)")
        assert cells == first_row
        rejected = int(page.get_attribute("#dry-run", "data-rejected"))
        assert rejected > 0
        assert page.locator("#first-rejects tbody tr").count() == min(rejected, 20)
        assert "空" in page.inner_text("#first-rejects") or "empty" in page.inner_text(
            "#first-rejects")
        page.screenshot(path=artifact("setup-preview.png"), full_page=True)

        # confirm: the progress is shown while the job runs, then the way to the new run
        page.click("#confirm-upload")
        page.wait_for_url(f"{base}/setup")
        page.wait_for_selector("#job-progress")
        seen = {page.get_attribute("#setup-job", "data-status")}
        deadline = time.monotonic() + 240
        while not page.is_visible("#job-done"):
            seen.add(page.get_attribute("#setup-job", "data-status"))
            assert page.get_attribute("#setup-job", "data-status") != "failed", page.inner_text(
                "#setup-job")
            assert time.monotonic() < deadline, page.inner_text("#setup-job")
            time.sleep(0.2)
        assert "running" in seen  # the page showed the job while it ran, and updated itself
        assert page.get_attribute("#job-progress", "value") == "100"
        run_id = re.search(r"#(\d+)", page.inner_text("#job-run")).group(1)
        page.screenshot(path=artifact("setup-done.png"), full_page=True)
        page.click("#job-done-link")
        deadline = time.monotonic() + 30
        while page.query_selector("[data-page=overview]") is None:  # the server's copy refreshes
            assert time.monotonic() < deadline, page.content()[:2000]
            time.sleep(1)
            page.goto(f"{base}/")
        assert page.url == f"{base}/"
        assert page.get_attribute("#run-label", "data-run-id") == run_id
        page.screenshot(path=artifact("setup-overview.png"), full_page=True)
    # the one answer of 400 is the bad file's page (the browser logs it too); nothing else
    assert [e for e in errors if "HTTP 400" not in e and "status of 400" not in e] == []
    assert len([e for e in errors if "HTTP 400" in e]) == 1
    assert (folder / "tierwise.toml").is_file()
