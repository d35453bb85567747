"""Setup from the browser, through the API and the pages with the test client: the first admin of
an empty folder, an upload of the demo's GBK export (detection, sample rows, the dry run and its
first rejected rows), a mapping change, confirm, the background job (a real child process) up to
the new run; and every way a file or a request can be wrong, each with a clear message."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import pytest

from tierwise import load_config
from tierwise.store import Store

from _web_store import PASSWORD, client_class

pytest.importorskip("fastapi")

CODE = "first-admin-code-for-tests"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tierwise.demo import generate_restaurant

    folder = tmp_path_factory.mktemp("exports")
    generate_restaurant(folder, members=120, years=1, end=dt.date(2026, 3, 31))
    return folder


def _empty_app(folder: Path):
    """The app ``tierwise serve`` makes in a folder without a config (an empty setup)."""
    from tierwise.config import parse_config
    from tierwise.web import create_app

    cfg = parse_config({}, source="tierwise.toml", base_dir=folder)
    with Store(cfg.store_path):
        pass
    return create_app(cfg, config_path=folder / "tierwise.toml", first_admin_code=CODE)


def _first_admin(test_client) -> None:
    page = test_client.get(f"/setup/first-admin?code={CODE}")
    assert page.status_code == 200, page.text
    token = test_client.cookies.get("tierwise_session")
    assert token
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = test_client.post("/setup/first-admin", data={
        "code": CODE, "username": "owner", "password": PASSWORD, "password2": PASSWORD,
        "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/setup"
    me = test_client.get("/api/me").json()
    assert me["role"] == "admin"
    test_client.headers["X-CSRF-Token"] = me["csrf_token"]


def _upload(test_client, name: str, data: bytes, kind: str = "orders"):
    return test_client.post("/api/setup/uploads", data={"kind": kind},
                            files={"file": (name, io.BytesIO(data), "application/octet-stream")})


def _wait(test_client, seconds: float = 180) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = test_client.get("/api/setup/job").json()["job"]
        if job and job["status"] != "running":
            return job
        time.sleep(0.5)
    pytest.fail("the setup job did not finish in time")


@pytest.fixture
def admin(tmp_path: Path):
    app = _empty_app(tmp_path)
    with client_class()(app, raise_server_exceptions=False) as test_client:
        _first_admin(test_client)
        yield test_client, tmp_path, app


def test_upload_preview_confirm_and_the_job_writes_a_run(admin, exports: Path) -> None:
    test_client, folder, _ = admin
    data = (exports / "visits.csv").read_bytes()
    data.decode("gbk")  # the demo export really is GBK
    answer = _upload(test_client, "消费记录.csv", data)
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert found["encoding"] in ("gbk", "gb18030")
    assert found["columns"]["customer_id"] == "会员卡号"
    assert found["columns"]["ordered_at"] == "消费时间"
    assert found["columns"]["amount"] == "消费金额"
    assert found["headers"][:3] == ["订单号", "会员卡号", "消费时间"]
    lines = data.decode("gbk").splitlines()
    assert found["sample"][0] == lines[1].split(",")  # the first data row, as written
    assert found["rows_in"] == found["accepted"] + found["rejected"]
    assert found["rejected"] > 0 and found["ready"]
    first = found["first_rejects"][0]
    assert first["line"] > 1 and first["reason"]
    assert first["values"] == lines[first["line"] - 1].split(",")  # line numbers are the file's
    assert not (folder / "tierwise.toml").exists()  # nothing is written before confirming

    # a wrong mapping stops a confirm; putting it back makes the file ready again
    token = found["token"]
    wrong = test_client.post(f"/api/setup/uploads/{token}/mapping",
                             json={"columns": {"amount": ""}})
    assert wrong.status_code == 200 and "amount" in wrong.json()["missing"]
    assert not wrong.json()["ready"]
    refused = test_client.post(f"/api/setup/uploads/{token}/confirm")
    assert refused.status_code == 400
    assert "amount" in refused.json()["error"]["message"]
    fixed = test_client.post(f"/api/setup/uploads/{token}/mapping",
                             json={"columns": {"amount": "消费金额"}})
    assert fixed.json()["ready"]

    started = test_client.post(f"/api/setup/uploads/{token}/confirm")
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    job = _wait(test_client)
    assert job["status"] == "done", job
    assert job["intake"][0]["rejected"] == found["rejected"]
    cfg = load_config(folder / "tierwise.toml")
    assert cfg.sources.orders.columns["customer_id"] == "会员卡号"
    assert cfg.resolve(cfg.sources.orders.path).read_bytes() == data
    with Store(cfg.store_path, read_only=True) as store:
        run = store.run_info("latest")
    assert run["run_id"] == job["run_id"]
    assert test_client.get(f"/api/setup/uploads/{token}").status_code == 404  # confirmed: gone
