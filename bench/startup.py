"""How fast `onrust` starts: wall time of `--help`, `--version` and `ask` over an ingested data dir.

    python bench/startup.py --data-dir .onrust [--runs 5]

Each command runs `--runs` times in a fresh interpreter (`python -m bot.cli`, this checkout's code); the
minimum, median and maximum wall times are printed. The minimum is the figure to compare: on a shared
machine the others mostly measure the neighbours. `ask` needs a data dir with `knowledge/` ingested
(`onrust --data-dir DIR ingest knowledge/`); without `--data-dir` it is skipped. Import times per module:
`python -X importtime -m bot.cli --help 2>&1 | sort -t'|' -k2 -n | tail`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Wat is de Maatschappelijke Impact Afweging?"


def wall_times(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="an ingested data dir, for `ask`")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    commands = {"--help": ["--help"], "--version": ["--version"]}
    if args.data_dir:
        commands["ask"] = ["--data-dir", str(args.data_dir), "ask", QUESTION]
    for name, argv in commands.items():
        t = wall_times(argv, args.runs)
        print(f"{name:10} min {min(t):.2f} s  median {statistics.median(t):.2f} s  max {max(t):.2f} s  (n={len(t)})")


if __name__ == "__main__":
    main()
