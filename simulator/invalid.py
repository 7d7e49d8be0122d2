"""The invalid-records fault: some records come back broken, always the same ones."""

from __future__ import annotations

from typing import Any

from simulator.faults import Faults
from simulator.stats import SimStats

DATE_FIELD = {"log": "date", "request": "time_created", "audit": "date"}
WRONG_TYPE: dict[str, tuple[str, object]] = {
    "log": ("system", "sometimes"),
    "request": ("success", "yes"),
    "audit": ("action", 42),
}


def corrupt_records(
    records: list[dict[str, Any]], kind: str, faults: Faults, stats: SimStats
) -> list[dict[str, Any]]:
    """Return the page with the records the fault plan marks as invalid broken in one way:
    missing date, unparseable date, a wrongly typed field, a missing id, or unknown fields."""
    if faults.p_invalid <= 0:
        return records
    out = []
    for record in records:
        how = faults.corruption(str(record.get("id")))
        if how is None:
            out.append(record)
            continue
        stats.count_fault("invalid")
        broken = dict(record)
        date_field = DATE_FIELD[kind]
        if how == 0:
            broken.pop(date_field, None)
        elif how == 1:
            broken[date_field] = "31/02/2026 25:61"
        elif how == 2:
            field, value = WRONG_TYPE[kind]
            broken[field] = value
        elif how == 3:
            broken.pop("id", None)
        else:
            broken["x_debug_trace"] = {"node": "sim-7", "tags": ["unexpected", 1]}
        out.append(broken)
    return out
