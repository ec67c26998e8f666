"""`rules list` and `rules show` with --format json: one valid document, Chinese as written, exact decimals."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from click.testing import CliRunner

from engine.cli import main


def _json(*args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "\\u" not in result.stdout  # ensure_ascii=False
    return json.loads(result.stdout)


def test_rules_list_json_is_one_document_of_every_measure() -> None:
    doc = _json("rules", "list", "--format", "json")
    assert [m["measure"] for m in doc if m["pack"] == "heze-2024"] == list(range(28))
    assert all(m["document"] == "菏政发〔2024〕11号" for m in doc)


def test_rules_show_json_gives_the_measure_with_exact_thresholds_and_iso_dates(policy) -> None:
    (m,) = _json("rules", "show", "9", "--format", "json")
    assert m["measure"] == 9 and m["title"] and m["lead_departments"]
    check = next(c for c in m["checks"] if c["id"] == "m9.char_town_invest_per_mu")
    value = check["threshold"]["values"][0]
    assert value["value"] == "200" and dt.date.fromisoformat(value["start"])
    stored = policy.find_check("heze-2024:m9.char_town_invest_per_mu").check.threshold.values[0].value
    assert Decimal(value["value"]) == stored
    assert isinstance(check["examples"], int) and check["examples"] > 0


def test_rules_show_json_of_one_check_and_its_history() -> None:
    (m,) = _json("rules", "show", "heze-2024:m9.char_town_invest_per_mu", "--format", "json")
    assert [c["full_id"] for c in m["checks"]] == ["heze-2024:m9.char_town_invest_per_mu"]
    h = _json("rules", "show", "heze-2024:m9.char_town_invest_per_mu", "--history", "--format", "json")
    assert h["check"] == "heze-2024:m9.char_town_invest_per_mu"
    assert h["versions"] and all(dt.date.fromisoformat(v["start"]) for v in h["versions"])
