"""``examples/crm_sync.py`` against a real server: upserts by hubspot_company_id,
checkpoints, and re-runs without duplicating anything."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from live_server import LiveServer
from pivotal import PivotalApi

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_sync(live: LiveServer, key: str, source: Path, checkpoint: Path) -> tuple[str, str]:
    env = {**os.environ, "PIVOTAL_API_KEY": key, "PIVOTAL_BASE_URL": live.base_url}
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "crm_sync.py"),
            "--input",
            str(source),
            "--checkpoint",
            str(checkpoint),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1], result.stdout


def test_sync_upserts_and_is_safe_to_rerun(
    live: LiveServer, sdk: PivotalApi, sdk_key: str, tmp_path: Path
) -> None:
    source = tmp_path / "companies.csv"
    shutil.copy(EXAMPLES / "crm_companies.csv", source)
    checkpoint = tmp_path / "state" / "checkpoint.json"
    with source.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))

    summary, _ = run_sync(live, sdk_key, source, checkpoint)
    assert summary == f"created={len(rows)} updated=0 unchanged=0 skipped=0 failed=0"
    customers = list(sdk.customers.list())
    assert sorted(c.hubspot_company_id or "" for c in customers) == sorted(
        r["hubspot_company_id"] for r in rows
    )
    aurora = next(c for c in customers if c.hubspot_company_id == "4711")
    assert (aurora.name, aurora.domain, aurora.plan, aurora.mrr) == (
        "Aurora Café",
        "aurora.example",
        "starter",
        49_900,
    )

    # Again: the checkpoint says everything is synced at these versions.
    summary, _ = run_sync(live, sdk_key, source, checkpoint)
    assert summary == f"created=0 updated=0 unchanged=0 skipped={len(rows)} failed=0"

    # The checkpoint lost (a new machine, a wiped disk): lookups find every customer.
    checkpoint.unlink()
    summary, _ = run_sync(live, sdk_key, source, checkpoint)
    assert summary == f"created=0 updated=0 unchanged={len(rows)} skipped=0 failed=0"

    # A new version of one company, and a new company.
    rows[0].update(plan="enterprise", mrr="250000", updated_at="2026-06-01T10:00:00Z")
    rows.append(
        {
            "hubspot_company_id": "4799",
            "name": "Fjord Freight",
            "domain": "fjord.example",
            "plan": "",
            "mrr": "",
            "updated_at": "2026-06-01T10:05:00Z",
        }
    )
    with source.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary, output = run_sync(live, sdk_key, source, checkpoint)
    assert summary == f"created=1 updated=1 unchanged=0 skipped={len(rows) - 2} failed=0"
    assert "4711: updated" in output and "4799: created" in output
    updated = sdk.customers.retrieve(aurora.id)
    assert (updated.plan, updated.mrr) == ("enterprise", 250_000)
    assert len(list(sdk.customers.list())) == len(rows)  # still one customer per company
