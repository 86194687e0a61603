"""End to end: a small fault campaign on the real dev server, run as a user runs it.

The riskiest path only (about a minute): the app killed and the proxy misbehaving while runs
go on, quiescence, every invariant checked on the recorded history, results and history saved.
The self-hosted campaign is the committed one (`make campaign`); it is too long for the tests.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script
from harness.faults.model import CAMPAIGN_FILE, CampaignFile
from harness.report import render as report

pytestmark = pytest.mark.devserver


def test_a_small_campaign_checks_every_invariant_and_keeps_its_history(tmp_path: Path) -> None:
    done = run_script(
        ROOT / "fault_campaign.py",
        *("--server", "dev", "--runs", "12", "--duration", "25", "--mean-gap", "1.0"),
        *("--seed", "11", "--quiesce", "90", "--results-dir", str(tmp_path)),
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a violation (a finding)
    saved = CampaignFile.model_validate_json((tmp_path / CAMPAIGN_FILE).read_text())
    campaign = saved.campaigns["dev"]
    assert campaign.seed == 11 and campaign.orders == 12 and campaign.faults_total > 0
    assert not {"server-term", "server-kill"} & set(campaign.faults_injected)
    assert [o.key for o in campaign.invariants] == list(report.INVARIANT_NAMES)
    assert all(o.checked > 0 for o in campaign.invariants[:6])
    history = tmp_path / "fault_campaign" / "dev-history.jsonl.gz"
    with gzip.open(history, "rt") as handle:
        records = [json.loads(line)["record"] for line in handle]
    assert records[0] == "workload" and records.count("send") >= 12 and "fault" in records
    assert ("VIOLATED" in done.stdout) == (done.returncode == 1)
