"""Setup from the browser: an uploaded export is previewed, written into the config, then
ingested and run in a background job.

* :mod:`.preview`: what an uploaded file holds (the detection of ``tierwise init --from``) and
  what an ingest would accept and reject (a dry run of the real intake), writing nothing;
* :mod:`.configfile`: the confirmed file and its column mapping written into ``tierwise.toml``
  (created when missing, else only its ``[sources.<kind>]`` table replaced);
* :mod:`.jobs`: ingest and run in a child process, one at a time per store, its progress and
  outcome kept in a small state file next to the store so that any page (or a restarted server)
  can show them.

The web dashboard's ``/setup`` page (:mod:`tierwise.web.setup`) only calls these.
"""

from __future__ import annotations

from .configfile import write_source
from .jobs import JobRunning, read_job, start_job
from .preview import KINDS, UploadPreview, preview_upload

__all__ = ["KINDS", "JobRunning", "UploadPreview", "preview_upload", "read_job", "start_job",
           "write_source"]
