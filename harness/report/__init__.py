"""REPORT.md and REPORT_ja.md, generated from results/."""
