"""Reading the store: runs, a record's history, the difference between two runs, a run's findings.

The readers live in engine/store/run_reads.py (runs), engine/store/finding_reads.py (findings) and
engine/store/record_reads.py (a record's history, the latest versions); this module gathers them.
"""

from __future__ import annotations

from engine.store.finding_reads import (
    COMPARED,
    FindingChange,
    FindingRow,
    _finding_query,
    _row,
    changed_fields,
    run_findings,
)
from engine.store.record_reads import (
    FieldChange,
    RecordHistory,
    RunJudgement,
    StoredVersion,
    VersionInfo,
    latest_versions,
    record_history,
)
from engine.store.run_reads import (
    PackUsed,
    RunDetail,
    _get_run,
    list_runs,
    run_detail,
    run_messages,
    run_summary,
)

__all__ = [
    "COMPARED",
    "FieldChange",
    "FindingChange",
    "FindingRow",
    "PackUsed",
    "RecordHistory",
    "RunDetail",
    "RunJudgement",
    "StoredVersion",
    "VersionInfo",
    "_finding_query",
    "_get_run",
    "_row",
    "changed_fields",
    "latest_versions",
    "list_runs",
    "record_history",
    "run_detail",
    "run_findings",
    "run_messages",
    "run_summary",
]
