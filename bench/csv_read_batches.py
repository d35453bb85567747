"""Read a CSV the way `tierwise ingest` does (``read_file_batches``, 500k rows a batch) and count
its rows: the reader's CPU and peak RSS alone, without the store. Not a test.

    PYTHONPATH=src /usr/bin/time -f "%e wall %U user %S sys %M KB" python bench/csv_read_batches.py FILE.csv

``--make-gbk SRC DST`` writes SRC (a UTF-8 orders CSV, e.g. bench/ingest.py's 10M file) again as
GBK with a Chinese column ``状态`` (已支付 / 已退款 every 7th row), so the reader must decode it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tierwise.io.readers import read_file_batches


def make_gbk(src: Path, dst: Path) -> None:
    with src.open(encoding="utf-8") as fin, dst.open("w", encoding="gbk", newline="") as fout:
        fout.write(fin.readline().rstrip("\r\n") + ",状态\n")
        for i, line in enumerate(fin):
            fout.write(line.rstrip("\r\n") + (",已退款\n" if i % 7 == 6 else ",已支付\n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--make-gbk", type=Path, metavar="DST")
    args = parser.parse_args()
    if args.make_gbk:
        make_gbk(args.file, args.make_gbk)
        return
    rows = bad = 0
    encoding = None
    for table in read_file_batches(args.file, label=args.file.name, batch_rows=500_000):
        rows += len(table.frame)
        bad += 0 if table.bad is None else len(table.bad)
        encoding = table.encoding
    print(rows, bad, encoding)


if __name__ == "__main__":
    main()
