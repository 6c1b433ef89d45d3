"""Mirror a CRM's companies into Pivotal customers: upsert by ``hubspot_company_id``.

    export PIVOTAL_API_KEY=pivotal_...                # the live key printed by `make run`
    export PIVOTAL_BASE_URL=http://127.0.0.1:8000     # the default
    python examples/crm_sync.py [--input examples/crm_companies.csv] [--checkpoint FILE]

Each input row is one CRM company with its last-modified time (``updated_at``), which
serves as the record's version. Safe to stop and re-run at any point:

- The checkpoint file records the version of each company already synced; a re-run
  skips those, and resumes where an interrupted run stopped.
- A company is looked up by the ``hubspot_company_id`` filter before it is created, so
  losing the checkpoint only costs a few lookups, never a duplicate.
- A create carries an Idempotency-Key derived from the source record and its version:
  if the answer to a create is lost (network cut, process killed), the SDK's retry, or
  the next run within 24 hours, gets the stored answer instead of a second customer. A
  new version of the record gets a new key, because its body differs.
- Updates are PATCHes of the fields that differ: repeating one changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from pivotal import PivotalApi
from pivotal.errors import PivotalError

HERE = Path(__file__).resolve().parent
SYNCED_FIELDS = ("name", "domain", "plan", "mrr")


def read_companies(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def customer_fields(row: dict[str, str]) -> dict[str, Any]:
    """The customer fields a company maps to (empty cells clear the field)."""
    mrr = row.get("mrr", "").strip()
    return {
        "name": row["name"].strip(),
        "domain": row.get("domain", "").strip() or None,
        "plan": row.get("plan", "").strip() or None,
        "mrr": int(mrr) if mrr else None,
    }


def normalized_domain(domain: str | None) -> str | None:
    """The domain as the server stores it, to compare like with like."""
    if domain is None:
        return None
    domain = domain.strip().lower()
    for scheme in ("https://", "http://"):
        domain = domain.removeprefix(scheme)
    return domain.rstrip("/")


def load_checkpoint(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    synced: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["synced"]
    return synced


def save_checkpoint(path: Path, synced: dict[str, str]) -> None:
    """Write atomically: a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as tmp:
        json.dump({"synced": synced}, tmp, indent=2, sort_keys=True)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


def sync_company(api: PivotalApi, row: dict[str, str]) -> str:
    """Create or update the customer of one company; returns what was done."""
    company_id = row["hubspot_company_id"].strip()
    fields = customer_fields(row)
    page = api.customers.list(hubspot_company_id=company_id, limit=1).first_page()
    if not page.data:
        api.customers.create(
            hubspot_company_id=company_id,
            idempotency_key=f"crm-sync:hubspot:{company_id}:{row['updated_at'].strip()}",
            **fields,
        )
        return "created"
    customer = page.data[0]
    current = {name: getattr(customer, name) for name in SYNCED_FIELDS}
    wanted = {**fields, "domain": normalized_domain(fields["domain"])}
    changes = {name: fields[name] for name in SYNCED_FIELDS if current[name] != wanted[name]}
    if not changes:
        return "unchanged"
    api.customers.update(customer.id, **changes)
    return "updated"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=HERE / "crm_companies.csv")
    parser.add_argument("--checkpoint", type=Path, default=Path("crm_sync.checkpoint.json"))
    args = parser.parse_args(argv)

    synced = load_checkpoint(args.checkpoint)
    counts: Counter[str] = Counter()
    with PivotalApi() as api:
        for row in read_companies(args.input):
            company_id, version = row["hubspot_company_id"].strip(), row["updated_at"].strip()
            if synced.get(company_id) == version:
                counts["skipped"] += 1
                continue
            try:
                action = sync_company(api, row)
            except PivotalError as exc:
                # Left out of the checkpoint: the next run tries this company again.
                print(f"{company_id}: failed: {exc}", file=sys.stderr)
                counts["failed"] += 1
                continue
            print(f"{company_id}: {action} ({row['name'].strip()})")
            counts[action] += 1
            synced[company_id] = version
            save_checkpoint(args.checkpoint, synced)

    summary = ("created", "updated", "unchanged", "skipped", "failed")
    print(" ".join(f"{name}={counts[name]}" for name in summary))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
