"""Property tests: generated records (valid and invalid) never crash the pipeline, and durable-rules
agrees with the plain-Python reference on every valid one.

Records are generated per kind from the catalog: random subsets of fields under their identifier,
Chinese label, an alias or a label with a unit ('总投资(亿元)'), plus junk columns; cell values are
drawn per field type from good values (numbers as int/float/text with thousands separators,
full-width digits, units, percentages; dates as text, date objects and Excel serial numbers) and bad
ones (NaN, inf, 1e308, -0.0, booleans, nested objects, control characters, random text).
The normaliser must return a record or errors naming the row and field, never raise; the file
readers must yield records/errors/warnings or a file error, never raise.

Examples: 2,000 per test when CI=true (profile 'hostile-ci'), 150 locally ('hostile-local').
Records are batched (up to 25 per example) so the engine runs stay cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.evaluation.evaluate import Evaluator
from engine.policy.policy import Policy, load_policy
from engine.records.catalog import FieldSpec
from engine.records.coerce import BadCell
from engine.records.intake import FileProblem, FileTally, iter_intake, rows_rejected
from engine.records.model import Normaliser, RawRecord, Record, SourceRef
from engine.records.record import RecordError
from engine.records.yamlsource import YamlSourceError, load_record_documents, load_yaml_text

settings.register_profile(
    "hostile-ci",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.register_profile(
    "hostile-local",
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
PROFILE = settings.get_profile("hostile-ci" if os.environ.get("CI") == "true" else "hostile-local")

POLICY: Policy = load_policy()
CATALOG = POLICY.catalog
NORMALISER = Normaliser(CATALOG)
DURABLE = Evaluator(POLICY, "durable")
PYTHON = Evaluator(POLICY, "python")
KINDS = ["project", "town", "county", "city", "enterprise", "department"]

JUNK = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "NaN",
            "nan",
            "inf",
            "-Infinity",
            "1e308",
            "-1e308",
            "1e-400",
            "-0",
            "-0.0",
            "",
            " ",
            "\u3000",
            "—",
            "N/A",
            "#DIV/0!",
            "#N/A",
            "是",
            "否",
            "true",
            "1,23,4",
            "1.2.3",
            "１２３４",
            "１，２３４．５",
            "57%",
            "0.57",
            "５７％",
            "1.2亿元",
            "3公顷",
            "500万元",
            "20000平方米",
            "12万人",
            "2024年",
            "2024-13-45",
            "2024年6月18日",
            "45461",
            "{{ 7*7 }}",
            "<b>x</b>",
            "../../etc/passwd",
            "\x00",
            "a\x07b",
            "\ud800",
            "x" * 3000,
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.none(),
    st.just(-0.0),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)


def _number(f: FieldSpec) -> st.SearchStrategy[Any]:
    lo = int(f.min) if f.min is not None else 0
    hi = int(min(f.max, Decimal(10**7))) if f.max is not None else 10**7
    base = st.one_of(
        st.integers(min_value=lo, max_value=hi),
        st.decimals(min_value=lo, max_value=hi, places=3, allow_nan=False, allow_infinity=False),
    )

    def render(v: Any, style: int) -> Any:
        if style == 0:
            return v if not isinstance(v, Decimal) else float(v)
        if style == 1:
            return str(v)
        if style == 2:
            return f"{Decimal(v):,}"
        if style == 3:
            return str(v).translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
        if style == 4 and f.unit:
            return f"{v}{f.unit}"
        if style == 5 and f.unit == "%":
            return f"{v}%"
        return str(v)

    return st.builds(render, base, st.integers(min_value=0, max_value=5))


def _good(f: FieldSpec) -> st.SearchStrategy[Any]:
    if f.type == "number":
        return _number(f)
    if f.type == "integer":
        lo = int(f.min) if f.min is not None else 0
        hi = int(f.max) if f.max is not None else 10**6
        return st.one_of(
            st.integers(min_value=lo, max_value=hi), st.integers(min_value=lo, max_value=hi).map(str)
        )
    if f.type == "boolean":
        return st.sampled_from([True, False, "是", "否", "yes", "no", 1, 0, "√", "×"])
    if f.type == "enum":
        return st.sampled_from(f.choices)
    if f.type == "date":
        d = st.dates(min_value=dt.date(2024, 5, 6), max_value=dt.date(2025, 12, 31))
        return st.one_of(
            d,
            d.map(str),
            d.map(lambda x: f"{x.year}年{x.month}月{x.day}日"),
            d.map(lambda x: (x - dt.date(1899, 12, 30)).days),
        )
    return st.text(alphabet=string.ascii_letters + "项目镇县区市{}<>/$%", max_size=20)


def _header(f: FieldSpec) -> st.SearchStrategy[str]:
    options = [f.name, f.label, *f.aliases]
    if f.unit:
        options.append(f"{f.label}({f.unit})")
        options.append(f"{f.label}（{f.unit}）")
    return st.sampled_from(options)


@st.composite
def raw_record(draw: st.DrawFn, index: int = 0) -> RawRecord:
    kind = draw(st.sampled_from(KINDS))
    spec = CATALOG.kind(kind)
    names = sorted(spec.fields)
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=min(8, len(names)))) if names else []
    data: dict[str, Any] = {}
    kind_cell = draw(st.one_of(st.just(kind), st.just(spec.label), JUNK))
    if draw(st.integers(0, 9)):
        data["类型"] = kind_cell if draw(st.integers(0, 4)) else draw(st.text(max_size=5))
    else:
        data["kind"] = kind
    data["编号"] = draw(st.one_of(st.just(f"R-{index}"), st.just(f"Ｒ－{index}"), JUNK))
    if draw(st.booleans()):
        data["名称"] = draw(st.one_of(st.text(max_size=30), JUNK))
    if spec.date_field == "report_year" and draw(st.integers(0, 4)):
        data["报告年度"] = draw(st.sampled_from([2024, 2025, "2024", "2025年"]))
    for name in chosen:
        f = spec.fields[name]
        header = draw(_header(f))
        data[header] = draw(_good(f)) if draw(st.integers(0, 5)) else draw(JUNK)
    if draw(st.integers(0, 5)) == 0:
        data[draw(st.text(max_size=6))] = draw(JUNK)
    return RawRecord(source=SourceRef(file="fuzz", row=index + 2), data=data)


batches = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(*[raw_record(i) for i in range(n)])
)


def _key(f: Any) -> tuple:
    return (f.record_id, f.check, f.status, str(f.value), str(f.threshold), f.message)


@PROFILE
@given(batches)
def test_generated_records_validate_or_fail_cleanly_and_engines_agree(raws: tuple[RawRecord, ...]) -> None:
    valid: list[Record] = []
    seen: set[tuple[str, str]] = set()
    for raw in raws:
        rec, errors, unknown = NORMALISER.normalise(raw)  # must not raise
        assert all(isinstance(u, str) for u in unknown)
        assert all(isinstance(e, RecordError) and e.source.row == raw.source.row for e in errors)
        assert all(str(e) for e in errors)  # printable
        if rec is None:
            assert len(errors) == 1 and errors[0].row_rejected  # the row's one reason
            continue
        # A record may come with field-level errors: each names a field left out and listed as invalid.
        assert all(not e.row_rejected for e in errors) and len(rec.invalid) >= (1 if errors else 0)
        assert not set(rec.invalid) & set(rec.values)
        rec.content_hash()
        if (rec.kind, rec.id) not in seen:
            seen.add((rec.kind, rec.id))
            valid.append(rec)
    durable = DURABLE.evaluate(valid)
    python = PYTHON.evaluate(valid)
    assert sorted(map(_key, durable.findings)) == sorted(map(_key, python.findings))
    assert {n.record_id for n in durable.notices} == {n.record_id for n in python.notices}
    for f in durable.findings:
        f.message.encode("utf-8")  # storable and printable


def _csv_cell(v: Any) -> str:
    s = "" if v is None else str(v)
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') else s


@PROFILE
@given(
    st.lists(raw_record(), min_size=1, max_size=8),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
    st.sampled_from(["\r\n", "\n", "\r"]),
    st.binary(max_size=40),
    st.booleans(),
)
def test_generated_csv_files_read_without_crashing(
    tmp_path_factory: Any, raws: list[RawRecord], encoding: str, eol: str, garbage: bytes, inject: bool
) -> None:
    header: list[str] = []
    for r in raws:
        for k in r.data:
            if k not in header:
                header.append(k)
    lines = [",".join(_csv_cell(h) for h in header)]
    lines += [",".join(_csv_cell(r.data.get(h)) for h in header) for r in raws]
    text = eol.join(lines) + eol
    data = text.encode(encoding, errors="replace")
    if inject:
        cut = len(data) // 2
        data = data[:cut] + garbage + data[cut:]
    path = Path(tmp_path_factory.mktemp("csv")) / "fuzz-projects.csv"
    path.write_bytes(data)
    _drain(path)


@PROFILE
@given(
    st.recursive(
        st.one_of(
            JUNK.filter(lambda v: not isinstance(v, (dt.date, str)) or isinstance(v, str)),
            st.text(max_size=10),
        ),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_generated_json_documents_read_without_crashing(tmp_path_factory: Any, doc: Any) -> None:
    path = Path(tmp_path_factory.mktemp("json")) / "fuzz.json"
    try:
        text = json.dumps(doc, ensure_ascii=False, default=str)
    except (ValueError, TypeError):
        return
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _drain(path)


@PROFILE
@given(
    st.lists(
        st.sampled_from(
            list("abc:-[]{}&*!?|>'\"#%@` \n\t,.1234")
            + ["<<", "!!python/object:os.system", "!!binary", "&a", "*a", "---", "  "]
        ),
        max_size=40,
    ).map("".join)
)
def test_generated_yaml_text_loads_or_fails_with_a_yaml_error(text: str) -> None:
    try:
        load_yaml_text(text, "fuzz.yaml")
    except YamlSourceError as exc:
        assert exc.file == "fuzz.yaml"


def _drain(path: Path) -> None:
    records = errors = 0
    tallies = []
    rejected: list[RecordError] = []
    for item in iter_intake([path], CATALOG):
        assert isinstance(item, (Record, RecordError, FileProblem, FileTally, str))
        str(item).encode("utf-8")  # every message can be printed
        records += isinstance(item, Record)
        errors += isinstance(item, RecordError)
        if isinstance(item, RecordError):
            rejected.append(item)
        if isinstance(item, FileTally):
            tallies.append(item)
    assert len(tallies) == 1  # every row accounted for
    assert tallies[0].rows_read == records + rows_rejected(rejected) + tallies[0].blank_rows


@PROFILE
@given(
    st.lists(
        st.sampled_from(
            list("abc:-[]{}&*!?|>'\"#%@` \n\t,.1234")
            + [
                "<<",
                "!!python/object:os.system",
                "!!binary",
                "&a",
                "*a",
                "---",
                "  ",
                "!!int",
                "0600",
                "1:30",
                "yes",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_generated_yaml_record_text_loads_or_fails_with_a_yaml_error(text: str) -> None:
    try:
        docs = load_record_documents(text, "fuzz.yaml")
    except YamlSourceError as exc:
        assert exc.file == "fuzz.yaml"
        return

    def scalars(v: Any) -> Any:
        if isinstance(v, dict):
            for k, x in v.items():
                yield k
                yield from scalars(x)
        elif isinstance(v, list):
            for x in v:
                yield from scalars(x)
        else:
            yield v

    for d in docs:  # the loader decides nothing: text, true/false, null, or a refused tag
        assert all(v is None or isinstance(v, (str, bool, BadCell)) for v in scalars(d.data))
