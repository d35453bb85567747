"""Run a tierwise command in this process, sampling VmRSS and the main thread's stack every
0.25 s, and print the three highest samples with their stacks: where a command's peak memory is.
Not a test.

    PYTHONPATH=src python bench/ingest_rss_sampler.py ingest --config bench/out/.../tierwise.toml
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path

MAIN = threading.get_ident()
SAMPLES: list[tuple[float, int, list[str]]] = []


def _rss_mb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def _sample() -> None:
    while True:
        frame = sys._current_frames().get(MAIN)
        stack = ([f"{Path(f.filename).name}:{f.lineno}:{f.name}"
                  for f in traceback.extract_stack(frame)][-14:] if frame else [])
        SAMPLES.append((time.time(), _rss_mb(), stack))
        time.sleep(0.25)


def main() -> None:
    threading.Thread(target=_sample, daemon=True).start()
    from tierwise.cli import main as cli

    start = time.time()
    try:
        cli(sys.argv[1:])
    except SystemExit:
        pass
    for t, rss, stack in sorted(SAMPLES, key=lambda s: -s[1])[:3]:
        print(f"t={t - start:.1f}s rss={rss} MB")
        print("   " + "\n   ".join(stack))
    step = max(1, len(SAMPLES) // 40)
    print("timeline:", [(round(t - start), rss, stack[-1] if stack else "")
                        for t, rss, stack in SAMPLES[::step]], file=sys.stderr)


if __name__ == "__main__":
    main()
