"""A full disk: ``run``, ``ingest``, ``export`` and ``report`` stop with one line and exit code 5,
leave no half-written file, and the store keeps what it had.

Two ways to fill the disk: an ``OSError(ENOSPC)`` injected at the write (in-process), and a real,
full 12 MB tmpfs (needs root and ``mount``; skipped with the reason elsewhere).
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_cli

B2B_END = "2026-09-30"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG

    folder = tmp_path_factory.mktemp("full")
    generate_b2b(folder, accounts=20)
    path = folder / "tierwise.toml"
    path.write_text(B2B_CONFIG.format(end=B2B_END), encoding="utf-8")
    for args in (("ingest",), ("run",)):
        done = run_cli(*args, "--config", str(path), cwd=folder)
        assert done.code == 0, done.stderr
    return path


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    text = " ".join(stderr.split())
    assert text.count("error:") == 1, stderr
    return text[text.index("error:"):]


def _runs(config: Path) -> list[dict]:
    done = run_cli("runs", "--json", "-c", str(config), cwd=config.parent)
    assert done.code == 0, done.stderr
    return done.json()


def test_disk_full_errors_are_recognised() -> None:
    import duckdb

    from tierwise.errors import DiskFullError, StoreError, disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device", "x.csv")).message \
        == "the disk is full while writing x.csv"
    assert isinstance(disk_full(duckdb.IOException(
        'IO Error: Could not write file "s.duckdb": No space left on device')), DiskFullError)
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert disk_full(outer) is not None
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert disk_full(ValueError("no")) is None
    assert issubclass(DiskFullError, StoreError) and DiskFullError().exit_code == 5


def test_export_with_an_injected_full_disk(config: Path, tmp_path: Path, monkeypatch,
                                           capsys) -> None:
    from tierwise import cli

    out = tmp_path / "customers.csv"
    out.write_text("the export of yesterday\n", encoding="utf-8")

    def full_disk(self, path, *args, **kwargs):  # writes a little, then the disk is full
        Path(path).write_text("customer_id,na", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    code = cli.main(["export", "customers", "-c", str(config), "--out", str(out)])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 5 and line.startswith("error: the disk is full while writing"), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv"]  # no .part
    assert out.read_text(encoding="utf-8") == "the export of yesterday\n"


def test_run_with_an_injected_full_disk(config: Path, monkeypatch, capsys) -> None:
    import duckdb

    from tierwise import cli
    from tierwise.store import Store

    before = _runs(config)

    def full_disk(self, *args, **kwargs):
        raise duckdb.IOException('IO Error: Could not write file "tierwise.duckdb.wal": '
                                 "No space left on device")

    monkeypatch.setattr(Store, "commit_run", full_disk)
    code = cli.main(["run", "-c", str(config), "--as-of", "2026-08-31"])
    assert code == 5
    assert _one_error_line(capsys.readouterr().err).startswith("error: the disk is full")
    assert _runs(config) == before


@pytest.fixture
def full_disk(config: Path, tmp_path: Path):
    """The store folder on a 12 MB tmpfs, filled to the last byte; yields (config, filler)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)],
                       check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and mount): {exc}")
    try:
        for name in ("tierwise.toml", "accounts.csv", "orders.xlsx", "survey.csv",
                     "contracts.csv", "costs.csv", "tierwise.duckdb"):
            shutil.copy2(config.parent / name, mount / name)
        # the demo's contracts and costs carry planted bad rows: their rejects files, as the
        # fixture's ingest wrote them (an ingest writes them again before the store)
        shutil.copytree(config.parent / "rejects", mount / "rejects")
        filler = mount / "filler"
        with filler.open("wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield mount / "tierwise.toml", filler
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("command", [
    ("run", "--as-of", "2026-08-31"), ("ingest",),
    ("export", "customers", "--out", "c.csv"),
    ("export", "customers", "--format", "xlsx", "--out", "c.xlsx"),
    ("report", "--out", "r.xlsx"), ("report", "--format", "html", "--out", "r.html")])
def test_a_real_full_disk(full_disk, command) -> None:
    config, filler = full_disk
    files = sorted(p.name for p in config.parent.iterdir())
    done = run_cli(*command, "-c", str(config), cwd=config.parent)
    assert done.code == 5, done.stderr
    assert _one_error_line(done.stderr).startswith("error: the disk is full")
    left = sorted(p.name for p in config.parent.iterdir() if not p.name.endswith(".wal"))
    assert left == files  # no .part, no half report
    filler.unlink()  # room again: the store has what it had and takes a new run
    assert [r["run_id"] for r in _runs(config)] == [1]
    again = run_cli(*command, "-c", str(config), cwd=config.parent)
    assert again.code == 0, again.stderr
