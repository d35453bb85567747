"""``python tests/_paused_run.py CONFIG AS_OF SECONDS``: a ``tierwise run`` that stops just before
its snapshot commits (printing ``pausing before commit``), for the tests that kill a run there or
read the store while a run holds its write lock. The pause is injected through
:func:`tierwise.pipeline.run`'s ``before_commit``; production code has no test switch."""

from __future__ import annotations

import datetime as dt
import sys
import time


def main(config: str, as_of: str, seconds: str) -> None:
    from tierwise import load_config
    from tierwise.pipeline import run

    def pause() -> None:
        print("tierwise: pausing before commit", flush=True)
        time.sleep(float(seconds))

    run(load_config(config), as_of=dt.date.fromisoformat(as_of), before_commit=pause)


if __name__ == "__main__":
    main(*sys.argv[1:4])
