"""How often a CLI command dies at exit (SIGABRT, "terminate called without an active exception").

Runs the same commands many times two ways, alternating: through ``tierwise.cli.entry`` (the
installed executable: exit handlers, flush, ``os._exit``) and through a plain
``sys.exit(main())`` (the interpreter's own shutdown, which destroys C++ static objects such as
native thread pools). It counts the processes killed by a signal for each, and the commands whose
output or exit code differed from the first run of the same command.

    PYTHONPATH=src python bench/exit_stress.py --dir tierwise-demo/restaurant --rounds 200

``--dir`` is a folder with a ``tierwise.toml`` and its store (``tierwise demo`` makes two).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_WAYS = {
    "entry": "from tierwise.cli import entry; entry()",
    "sys.exit": "import sys; from tierwise.cli import main; sys.exit(main())",
}


def _commands(out: Path) -> list[list[str]]:
    """Commands that read the store, load DuckDB and Arrow, and end in success or in an error."""
    return [
        ["validate"],
        ["runs", "--json"],
        ["export", "customers", "--run", "999", "--out", str(out / "x.csv")],
        ["export", "customers", "--format", "xlsx", "--out", str(out / "c.xlsx")],
        ["report", "--out", str(out / "missing" / "r.html"), "--format", "html"],
        ["warnings", "--json"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    config = (args.dir / "tierwise.toml").resolve()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    killed: dict[str, collections.Counter[int]] = {w: collections.Counter() for w in _WAYS}
    differed: dict[str, int] = dict.fromkeys(_WAYS, 0)
    runs: dict[str, int] = dict.fromkeys(_WAYS, 0)
    first: dict[tuple[str, ...], tuple[int, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for cmd in _commands(Path(tmp)):
                for way, code in _WAYS.items():
                    done = subprocess.run([sys.executable, "-c", code, *cmd, "--config",
                                           str(config)], capture_output=True, text=True,
                                          env=env, cwd=args.dir)
                    runs[way] += 1
                    if done.returncode < 0:
                        killed[way][-done.returncode] += 1
                        print(f"round {i} {way} {' '.join(cmd)}: signal {-done.returncode}: "
                              f"{done.stderr.strip().splitlines()[-1:]}", flush=True)
                        continue
                    seen = first.setdefault(tuple(cmd), (done.returncode, done.stdout))
                    if (done.returncode, done.stdout) != seen and cmd[0] != "export":
                        differed[way] += 1
    for way in _WAYS:
        print(f"{way:<9} runs {runs[way]:>6}  killed by a signal {sum(killed[way].values()):>4} "
              f"{dict(killed[way])}  output differed {differed[way]}")


if __name__ == "__main__":
    main()
