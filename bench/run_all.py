"""`make bench`: every bench/bench_*.py in one run, then the lines that carry a ratio or a target, together.

    .venv/bin/python bench/run_all.py                        # SQLite where a bench can use it
    CALLBACK_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/cb_bench \
        .venv/bin/python bench/run_all.py                    # PostgreSQL where a bench can use it
    .venv/bin/python bench/run_all.py claim ivr              # only the benches whose name contains a word

Each bench runs in its own process at its default size (bench/README.md gives the command for the issue's
sizes) and prints its figures as it goes; each figure is already a ratio to an anchor measured by the same
script in the same run. At the end the summary repeats, per bench, the lines that name a ratio, an anchor or a
target, so one screen shows where every target stands. A bench that fails stops nothing: its exit status is
listed and the run exits 1.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# The lines a reader looks for after the run: ratios to the anchor and the targets' verdicts.
SUMMARY_LINE = re.compile(r"\bratio\b|\banchor\b|\btarget\b|\bmet\b| / ", re.IGNORECASE)


def main(words: list[str]) -> int:
    scripts = sorted(BENCH.glob("bench_*.py"))
    if words:
        scripts = [script for script in scripts if any(word in script.stem for word in words)]
    summaries: list[tuple[str, list[str], int, float]] = []
    for script in scripts:
        print(f"== {script.relative_to(BENCH.parent)}", flush=True)
        began = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own scripts, by path
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        kept = []
        for line in process.stdout:
            print(line, end="", flush=True)
            if SUMMARY_LINE.search(line):
                kept.append(line.rstrip())
        status = process.wait()
        summaries.append((script.stem, kept, status, time.perf_counter() - began))

    print("\n== summary: ratios, anchors and targets, per bench")
    for name, lines, status, seconds in summaries:
        verdict = "ok" if status == 0 else f"FAILED (exit {status})"
        print(f"-- {name} ({seconds:.0f} s, {verdict})")
        for line in lines:
            print(f"   {line.strip()}")
    return 0 if all(status == 0 for _, _, status, _ in summaries) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
