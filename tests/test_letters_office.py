"""The reviewing office: masthead, number prefix, signature and contact from compliance.toml, the
environment and the command line (--office; --reviewer, the person in evaluate, is refused here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.policy.config import ConfigError
from engine.render.office import DEFAULT_OFFICE, DEFAULT_PREFIX, load_office
from tests.test_letters_support import write_projects

TOML = """[office]
name = "曹县推进新型城镇化工作领导小组办公室"
prefix = "曹城审"
signature = ["曹县推进新型城镇化工作领导小组办公室", "(代章)"]
contact = "联系人:王明,电话:0530-3456789"
"""


def test_office_defaults_without_a_config_file(tmp_path: Path) -> None:
    o = load_office(tmp_path, environ={})
    assert (o.name, o.prefix, o.signature_lines, o.contact) == (
        DEFAULT_OFFICE,
        DEFAULT_PREFIX,
        [DEFAULT_OFFICE],
        None,
    )


def test_office_settings_come_from_compliance_toml_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "compliance.toml").write_text(TOML, encoding="utf-8")
    o = load_office(tmp_path, environ={})
    assert o.name == "曹县推进新型城镇化工作领导小组办公室" and o.prefix == "曹城审"
    assert o.signature_lines == ["曹县推进新型城镇化工作领导小组办公室", "(代章)"]
    assert o.contact == "联系人:王明,电话:0530-3456789"
    env = {
        "COMPLIANCE_OFFICE_NAME": "单县住房和城乡建设局",
        "COMPLIANCE_LETTER_PREFIX": "单建审",
        "COMPLIANCE_OFFICE_SIGNATURE": "单县住房和城乡建设局|审查科",
        "COMPLIANCE_OFFICE_CONTACT": "电话:1",
    }
    o = load_office(tmp_path, environ=env)
    assert (o.name, o.prefix, o.signature_lines, o.contact) == (
        "单县住房和城乡建设局",
        "单建审",
        ["单县住房和城乡建设局", "审查科"],
        "电话:1",
    )
    assert o.with_overrides(name="X办公室", prefix="X审").prefix == "X审"


@pytest.mark.parametrize("bad", ['prefix = "菏〔城〕审"', 'prefix = ""', 'name = "  "', 'colour = "red"'])
def test_bad_office_settings_name_the_file(tmp_path: Path, bad: str) -> None:
    (tmp_path / "compliance.toml").write_text(f"[office]\n{bad}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="compliance.toml"):
        load_office(tmp_path, environ={})


def _stored(tmp_path: Path) -> str:
    src = tmp_path / "in"
    src.mkdir()
    write_projects(src)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    r = CliRunner().invoke(main, ["evaluate", str(src), "--db", url, "--format", "summary", "--quiet"])
    assert r.exit_code in (0, 1), r.stderr
    return url


def test_letter_takes_office_and_prefix_from_the_environment_and_options(tmp_path: Path) -> None:
    url = _stored(tmp_path)
    env = {
        "COMPLIANCE_OFFICE_NAME": "郓城县推进新型城镇化工作领导小组办公室",
        "COMPLIANCE_LETTER_PREFIX": "郓城审",
        "COMPLIANCE_OFFICE_CONTACT": "联系人:李华,电话:0530-6666666",
    }
    r = CliRunner().invoke(
        main, ["letter", "P-OK", "-f", "md", "-o", str(tmp_path / "o"), "--db", url], env=env
    )
    assert r.exit_code == 0, r.stderr
    path = Path(r.stdout.strip())
    text = path.read_text(encoding="utf-8")
    assert path.name == "郓城审〔2026〕1号_P-OK.md"
    assert (
        text.startswith("**郓城县推进新型城镇化工作领导小组办公室**")
        and "（联系人：李华，电话：0530-6666666）" in text
    )
    r = CliRunner().invoke(
        main,
        [
            "letter",
            "P-FAIL",
            "-f",
            "md",
            "--office",
            "单县住房和城乡建设局",
            "-o",
            str(tmp_path / "o"),
            "--db",
            url,
        ],
        env=env,
    )
    assert r.exit_code == 0 and "**单县住房和城乡建设局**" in Path(r.stdout.strip()).read_text(
        encoding="utf-8"
    )


def test_reviewer_is_no_longer_an_alias_of_office_and_says_so(tmp_path: Path) -> None:
    url = _stored(tmp_path)
    r = CliRunner().invoke(
        main,
        ["letter", "P-OK", "-f", "md", "--reviewer", "旧审查单位", "-o", str(tmp_path / "o"), "--db", url],
    )
    assert r.exit_code == 2 and "--office" in r.output and "已停用" in r.output
    assert not (tmp_path / "o").exists()
    help_text = CliRunner().invoke(main, ["letter", "--help"]).stdout
    assert "--office" in help_text and "--reviewer" not in help_text
