"""The store hashes and serialises a record's values in one pass, exactly as the two general functions do."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.records.model import Record, SourceRef
from engine.store.codec import values_json, version_texts

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None) | st.sampled_from(
    [
        Decimal("45.30"),
        Decimal("45.3"),
        Decimal("1E+2"),
        Decimal("1E-7"),
        Decimal("-0"),
        Decimal("0E-8"),
        Decimal("100"),
        Decimal("123456789012345678901234567890.123"),
    ]
)
values = st.dictionaries(
    st.text(min_size=1, max_size=12),
    decimals | st.booleans() | st.text(max_size=20) | st.integers() | st.dates(),
    max_size=12,
)


@settings(max_examples=300)
@given(
    kind=st.sampled_from(["project", "town", "city"]),
    rid=st.text(min_size=1, max_size=20),
    name=st.none() | st.text(max_size=20),
    vals=values,
)
def test_one_pass_gives_the_records_content_hash_and_values_json(kind, rid, name, vals) -> None:
    rec = Record.model_construct(
        kind=kind,
        id=rid,
        name=name,
        values=vals,
        source=SourceRef(file="f.csv", row=2),
        conversions=[],
        warnings=[],
    )
    assert version_texts(kind, rid, name, vals) == (rec.content_hash(), values_json(vals))


def test_the_same_value_written_differently_is_the_same_content_but_kept_as_written() -> None:
    a = version_texts("project", "P1", None, {"total_investment": Decimal("45.30"), "d": dt.date(2024, 5, 6)})
    b = version_texts("project", "P1", None, {"total_investment": Decimal("45.3"), "d": dt.date(2024, 5, 6)})
    assert a[0] == b[0] and a[1] != b[1] and '"45.30"' in a[1]
