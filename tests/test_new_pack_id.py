"""`rules new-pack FOLDER` derives a valid pack id from any folder name, or asks for --id (issue 14)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.authoring.lint import lint
from engine.authoring.lintreport import EXIT_CLEAN
from engine.authoring.scaffold import pack_id_from_folder
from engine.cli import main
from engine.policy.schema import PackMeta


def _usable(name: str) -> bool:  # one path component that is not the folder itself or its parent
    return name not in (".", "..") and name.strip() != "" and len(name.encode("utf-8")) < 200


# Folder names as people type them: capitals, spaces, Chinese, full-width forms, digits first, accents,
# punctuation; anything a file system allows in one path component.
NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\\x00"),
    min_size=1,
    max_size=60,
).filter(_usable)
MIXED = (
    st.lists(
        st.sampled_from(
            [
                "Lu",
                "2024",
                " ",
                "山东",
                "方案",
                "-",
                "_",
                ".",
                "（",
                "）",
                "Ｌｕ",
                "É",
                "v2",
                "〔2024〕",
                "号",
                "Pack",
                "  ",
            ]
        ),
        min_size=1,
        max_size=8,
    )
    .map("".join)
    .filter(_usable)
)

FULL = [
    "--title",
    "山东省新型城镇化建设行动方案",
    "--number",
    "鲁政发〔2024〕1号",
    "--issuer",
    "山东省人民政府",
    "--issued-on",
    "2024-01-10",
    "--valid-from",
    "2024-01-10",
    "--valid-to",
    "2025-12-31",
]


def _examples(*names: str):  # type: ignore[no-untyped-def]
    def apply(f):  # type: ignore[no-untyped-def]
        for n in reversed(names):
            f = example(n)(f)
        return f

    return apply


def _lint_id_accepts(pack_id: str) -> bool:
    """The id rule of pack.yaml, as validation (and so lint) applies it."""
    try:
        PackMeta.model_validate(
            {
                "id": pack_id,
                "title": "t",
                "number": "n",
                "issuer": "i",
                "issued_on": "2024-01-01",
                "period": {"from": "2024-01-01", "to": "2025-12-31"},
            }
        )
    except ValidationError as exc:
        return all(e["loc"][:1] != ("id",) for e in exc.errors())
    return True


@settings(max_examples=400, deadline=None)
@given(st.one_of(NAMES, MIXED))
@_examples(
    "Lu 2024",
    "2024年山东",
    "山东方案",
    "ＬＵ－２０２４",
    "Café pack",
    "..hidden",
    "a" * 120,
    "-_-",
    "鲁政发〔2024〕1号 Lu",
)
def test_a_derived_pack_id_always_passes_the_id_rule_of_lint(name: str) -> None:
    pack_id = pack_id_from_folder(name)
    if pack_id is None:  # only when the name holds no ASCII letter (after full-width and accents)
        assert not re.search(r"[a-z]", _ascii_letters(name))
        return
    assert _lint_id_accepts(pack_id), pack_id
    assert re.search(r"[a-z]", pack_id)
    assert pack_id_from_folder(pack_id) == pack_id  # a valid id is kept as it is


def _ascii_letters(name: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name)).lower()
    return "".join(ch for ch in text if "a" <= ch <= "z")


def test_examples_of_derived_ids() -> None:
    assert _lint_id_accepts("lu-2024") and not _lint_id_accepts("Lu 2024") and not _lint_id_accepts("-x")
    assert pack_id_from_folder("lu-2024") == "lu-2024"
    assert pack_id_from_folder("Lu 2024") == "lu-2024"
    assert pack_id_from_folder("ＬＵ２０２４") == "lu2024"
    assert pack_id_from_folder("My Pack (draft)") == "my-pack-draft"
    assert pack_id_from_folder("2024 Heze") == "2024-heze"
    assert pack_id_from_folder("山东方案") is None and pack_id_from_folder("2024年") is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(NAMES, MIXED))
@_examples("Lu 2024", "山东方案")
def test_a_new_pack_scaffolded_in_any_folder_then_linted_is_clean(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / name
        result = CliRunner().invoke(main, ["rules", "new-pack", str(folder), *FULL])
        if pack_id_from_folder(name) is None:
            assert result.exit_code == 2
            assert "无法从文件夹名" in result.output and "--id" in result.output
            assert not (folder / "pack.yaml").exists()
            result = CliRunner().invoke(main, ["rules", "new-pack", str(folder), "--id", "lu-2024", *FULL])
        assert result.exit_code == 0, result.output
        report = lint([folder])
        assert report.exit_code == EXIT_CLEAN, [str(p) for p in report.problems + report.unusable]


def test_an_invalid_id_is_refused_with_a_chinese_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "new-pack", str(tmp_path / "p"), "--id", "Lu 2024"])
    assert result.exit_code == 2 and "不合格式" in result.output
    assert not (tmp_path / "p" / "pack.yaml").exists()
