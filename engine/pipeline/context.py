"""What a new run reads from the store besides its own files: earlier reports and lower records.

Baselines and prior-year figures come from the subject's own earlier reports, and city and county
counts from the latest stored version of each lower record (issue 12): the store holds both. They
are context only: never judged or stored again by this run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.pipeline.stream import cumulative_fields
from engine.policy.policy import Policy
from engine.records.model import Record, SourceRef

if TYPE_CHECKING:
    from engine.store.store import Store


def stored_context(store: Store, policy: Policy) -> list[Record]:
    """The latest stored version of every record a run may read: yearly reports that prior-year
    figures, baselines and cumulative targets read, and the lower records that aggregates count."""
    from engine.store.codec import decode_values
    from engine.store.queries import latest_versions

    kinds = set(cumulative_fields(policy)) | {a.over for a in policy.aggregates().values()}
    kinds &= set(policy.catalog.kinds)
    out = []
    for v in latest_versions(store, kinds):
        values = decode_values(v.values, v.kind, policy.catalog)
        out.append(
            Record(
                kind=v.kind,
                id=v.record_id,
                name=v.name,
                values=values,
                source=SourceRef(file=f"已存储(第{v.first_run_id}次评价)"),
            )
        )
    return out
