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


@pytest.mark.parametrize(("name", "data", "status", "words"), [
    ("empty.csv", b"", 400, "the file is empty"),
    ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(200), 400, "not a table"),
    ("old.xls", b"\xd0\xcf\x11\xe0" + bytes(100), 400, "save it as .xlsx"),
    ("bytes.csv", bytes(range(256)) * 40, 400, "cannot tell the text encoding"),
    ("fake.xlsx", b"this is not a spreadsheet at all", 400, "cannot open as an excel workbook"),
    # read as a table, but cannot be confirmed: the preview says why
    ("only-header.csv", "会员卡号,消费时间,消费金额\r\n".encode("gbk"), 201, "no rows of data"),
    ("no-dates.csv", "会员卡号,消费金额\r\n88000001,12.5\r\n".encode("gbk"), 201,
     "required column ordered_at not found"),
])
def test_a_bad_file_gets_a_clear_message(admin, name: str, data: bytes, status: int,
                                         words: str) -> None:
    test_client, folder, _ = admin
    answer = _upload(test_client, name, data)
    assert answer.status_code == status, answer.text
    if status == 201:
        found = answer.json()
        assert not found["ready"]
        assert words in " ".join(found["problems"])
        return
    error = answer.json()["error"]
    assert error["code"] == "bad_file"
    assert words in error["message"].lower()
    assert "Traceback" not in error["message"] and str(folder) not in error["message"]
    pending = folder / "uploads" / "pending"
    assert not pending.exists() or not any(pending.iterdir())  # a refused file is not kept


def test_no_date_column_is_named_and_confirm_refuses(admin) -> None:
    test_client, _, _ = admin
    data = "会员卡号,消费金额\r\n88000001,12.5\r\n88000002,30\r\n".encode("gbk")
    found = _upload(test_client, "no-dates.csv", data).json()
    assert found["missing"] == ["ordered_at"] and not found["ready"]
    refused = test_client.post(f"/api/setup/uploads/{found['token']}/confirm")
    assert refused.status_code == 400
    assert "ordered_at" in refused.json()["error"]["message"]
    page = test_client.get(f"/setup/uploads/{found['token']}")
    assert 'id="preview-problems"' in page.text and "ordered_at" in page.text
    assert 'id="confirm-upload" disabled' in page.text


def test_the_page_shows_a_bad_file_on_the_setup_page(admin) -> None:
    test_client, _, _ = admin
    page = test_client.get("/setup")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = test_client.post("/setup/upload", data={"kind": "orders", "csrf_token": csrf},
                              files={"file": ("photo.jpg", io.BytesIO(b"\xff\xd8\xff" + bytes(50)),
                                              "image/jpeg")})
    assert answer.status_code == 400
    assert 'id="setup-error"' in answer.text and "not a table" in answer.text
    assert 'id="upload-form"' in answer.text  # the form is there to try again


def test_too_large_is_refused(tmp_path: Path) -> None:
    from tierwise.config import parse_config
    from tierwise.web import create_app

    cfg = parse_config({"web": {"upload_max_mb": 1}}, base_dir=tmp_path)
    with Store(cfg.store_path):
        pass
    app = create_app(cfg, config_path=tmp_path / "tierwise.toml", first_admin_code=CODE)
    with client_class()(app, raise_server_exceptions=False) as test_client:
        _first_admin(test_client)
        answer = _upload(test_client, "big.csv", b"a,b\r\n" + b"1,2\r\n" * 400_000)
        assert answer.status_code == 413
        assert "1 MB" in answer.json()["error"]["message"]


def test_only_admins_with_a_csrf_token_may_upload(admin, exports: Path) -> None:
    test_client, _, app = admin
    data = (exports / "members.csv").read_bytes()
    token = test_client.headers.pop("X-CSRF-Token")
    assert _upload(test_client, "members.csv", data, "customers").status_code == 403
    test_client.headers["X-CSRF-Token"] = token
    with Store(app.state.tierwise.store.path) as store:
        from tierwise.web.accounts import add_user

        add_user(store, "li", "manager", PASSWORD, manager="李")
    app.state.tierwise.ensure_loaded().refresh(force=True)
    with client_class()(app, raise_server_exceptions=False) as other:
        login = other.post("/api/login", json={"username": "li", "password": PASSWORD})
        other.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        assert _upload(other, "members.csv", data, "customers").status_code == 403
        assert other.get("/api/setup/job").status_code == 403
        assert other.get("/setup").status_code == 403
    with client_class()(app, raise_server_exceptions=False) as anonymous:
        assert anonymous.get("/api/setup/job").status_code == 401


def test_unknown_upload_and_unknown_kind(admin) -> None:
    test_client, _, _ = admin
    assert test_client.get("/api/setup/uploads/" + "a" * 24).status_code == 404
    answer = _upload(test_client, "x.csv", b"a,b\r\n1,2\r\n", kind="invoices")
    assert answer.status_code == 400 and "invoices" in answer.json()["error"]["message"]


def test_first_admin_needs_the_code_and_only_once(tmp_path: Path) -> None:
    app = _empty_app(tmp_path)
    with client_class()(app, raise_server_exceptions=False) as test_client:
        assert test_client.get("/setup/first-admin?code=wrong").status_code == 404
        assert test_client.get("/setup/first-admin").status_code == 404
        _first_admin(test_client)
        assert test_client.get(f"/setup/first-admin?code={CODE}").status_code == 404


def test_one_job_at_a_time_and_a_failed_job_says_why(admin, exports: Path) -> None:
    from tierwise.uploads.jobs import job_files

    test_client, folder, app = admin
    members = _upload(test_client, "members.csv", (exports / "members.csv").read_bytes(),
                      "customers").json()
    assert members["ready"], members
    store_path = app.state.tierwise.store.path
    _, lock, _ = job_files(store_path)
    import fcntl
    import os

    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another job holds the store
    try:
        busy = test_client.post(f"/api/setup/uploads/{members['token']}/confirm")
        assert busy.status_code == 409
        assert "already running" in busy.json()["error"]["message"]
    finally:
        os.close(fd)
    # customers alone: the config has no orders yet, and the job says so
    started = test_client.post(f"/api/setup/uploads/{members['token']}/confirm")
    assert started.status_code == 202, started.text
    job = _wait(test_client)
    assert job["status"] == "failed"
    assert "[sources.orders]" in job["message"] and "Traceback" not in job["message"]
    page = test_client.get("/setup")
    assert 'id="job-message"' in page.text and "sources.orders" in page.text



def test_a_contracts_export_is_uploaded_and_confirmed_beside_the_orders(admin) -> None:
    """The B2B example's accounts and orders, then its contracts file: detected (Chinese
    headers), its bad row shown before confirming, and after the job the contracts are in the
    store and the config has ``[sources.contracts]``."""
    from conftest import ROOT

    test_client, folder, _ = admin
    b2b = ROOT / "examples" / "b2b"
    for name, kind in (("orders.xlsx", "orders"), ("accounts.csv", "customers")):
        found = _upload(test_client, name, (b2b / name).read_bytes(), kind).json()
        assert found["ready"], found
        started = test_client.post(f"/api/setup/uploads/{found['token']}/confirm")
        assert started.status_code == 202, (name, started.text)
        job = _wait(test_client)
        assert job["status"] == "done", job
    answer = _upload(test_client, "合同导出.csv", (b2b / "contracts.csv").read_bytes(),
                     "contracts")
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert found["kind"] == "contracts" and found["ready"]
    assert found["columns"]["starts_at"] == "开始日期" and found["columns"]["value"] == "合同金额"
    assert "contract_id" in found["mappable"] and "ends_at" in found["required"]
    assert (found["rows_in"], found["rejected"]) == (49, 1)
    assert found["first_rejects"][0]["values"][0] == "HT-C10017-202411-X"
    page = test_client.get(f"/setup/uploads/{found['token']}")
    assert page.status_code == 200, page.text
    assert 'id="detected-kind">Contracts<' in page.text or 'id="detected-kind">合同<' in page.text
    assert 'value="costs"' in test_client.get("/setup").text  # offered in the upload form
    started = test_client.post(f"/api/setup/uploads/{found['token']}/confirm")
    assert started.status_code == 202, started.text
    job = _wait(test_client)
    assert job["status"] == "done", job
    cfg = load_config(folder / "tierwise.toml")
    assert cfg.sources.contracts.columns["customer_id"] == "客户编号"
    with Store(cfg.store_path, read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM contracts").fetchall()[0][0] == 48
