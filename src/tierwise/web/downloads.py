"""Files the dashboard hands out: a run's report (Excel, HTML) and a campaign's target list.

A report covers every customer of the run, so only an admin may download one. It is built by
:func:`tierwise.reports.build_report` from the store itself (opened briefly) and written by the
report renderers into a temporary folder that is removed once the file is sent.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io.sheets import neutralise
from .access import Viewer
from .context import WebContext
from .errors import Forbidden, NotFound

REPORT_FORMATS = ("xlsx", "html")
_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "html": "text/html; charset=utf-8"}


def _renderer(fmt: str) -> Callable[..., Path] | None:
    """The report renderer of a format; None when this version of tierwise has none."""
    import tierwise.reports as reports

    return getattr(reports, {"xlsx": "render_xlsx", "html": "render_html"}[fmt], None)


def report_file(ctx: WebContext, viewer: Viewer, run_id: int, fmt: str, lang: str | None
                ) -> tuple[Path, str]:
    """Build and write the report of ``run_id``; returns the file (in its own temporary
    folder, which the caller removes) and its media type.

    Raises
    ------
    Forbidden
        For a viewer who is not an admin.
    NotFound
        When the run does not exist, or tierwise has no renderer for ``fmt``.
    """
    from ..reports import build_report

    if not viewer.is_admin:
        raise Forbidden("reports cover every customer: only an admin can download them")
    render = _renderer(fmt)
    if render is None:
        raise NotFound(f"the {fmt.upper()} report is not available in this version of tierwise",
                       "download the Excel report")
    with ctx.store.reading() as store:
        known = store.con.execute("SELECT count(*) FROM runs WHERE run_id = ?",
                                  [run_id]).fetchall()[0][0]
        if not known:
            raise NotFound(f"run {run_id} not found", "see the runs page for the runs there are")
        report = build_report(store, run=run_id, lang=lang)
    folder = Path(tempfile.mkdtemp(prefix="tierwise-report-"))
    path = render(report, folder / f"report-run{run_id}.{fmt}")
    return Path(path), _MEDIA[fmt]


def targets_csv(items: list[dict[str, Any]]) -> bytes:
    """The target list as CSV in UTF-8 with a BOM (Excel then reads Chinese names right);
    formula-like text is neutralised (:func:`tierwise.io.sheets.neutralise`). As in
    ``tierwise campaign export``, a run with order lines adds ``cross_sell`` (what the customer's
    tier buys and they never did) and a campaign with a message text adds ``message``."""
    out = io.StringIO()
    columns = ["customer_id", "name", "phone", "face_value", "valid_from", "valid_until",
               "campaign", "purchase_likelihood", "next_purchase_expected"]
    columns += [c for c in ("cross_sell", "message")
                if any(item.get(c) is not None for item in items)]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: neutralise(v) for k, v in item.items()} for item in items)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


__all__ = ["REPORT_FORMATS", "report_file", "targets_csv"]
