"""The Temporal comparison the reports show: ``results/temporal.json``.

Today every Temporal cell is *documented*: a claim from Temporal's documentation with its URL,
labelled as not executed; the Inngest side of each row comes from this suite's measured items.
Measuring the Temporal side against Temporal's own dev server is not implemented yet.

    python compare_temporal.py              # write results/temporal.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.comparison import COMPARISON_FILE, DOCUMENTED_ROWS, Comparison
from harness.results import write_atomically
from harness.runlog import utc_now

ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    comparison = Comparison(written_at=utc_now(), rows=DOCUMENTED_ROWS)
    path = args.results_dir / COMPARISON_FILE
    write_atomically(path, comparison.model_dump_json(indent=2) + "\n")
    print(f"wrote {path} ({len(comparison.rows)} rows, all documented)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
