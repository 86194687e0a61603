"""Generate REPORT.md and REPORT_ja.md (and their charts) from results/*.json.

python report.py            # write them
python report.py --check    # exit 1 if the committed ones are not what the results say
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.host import validate
from harness.report.render import drift
from harness.report.render import generate as _generate

ROOT = Path(__file__).resolve().parent


def generate(results_dir: Path, root: Path = ROOT) -> list[Path]:
    return _generate(results_dir, root)


def main(argv: list[str] | None = None) -> int:
    parser = validate.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results")
    parser.add_argument(
        "--check", action="store_true", help="compare instead of writing (exit 1 on drift)"
    )
    args = parser.parse_args(argv)
    try:
        validate.readable_dir("--results-dir", args.results_dir)
    except validate.BadInput as exc:
        return validate.refuse(parser.prog, exc)
    if args.check:
        problems = drift(args.results_dir, ROOT)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in generate(args.results_dir, ROOT):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
