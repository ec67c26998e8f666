"""`compliance rules new-pack` and `compliance rules new`: write a pack.yaml or a commented rule file to fill in."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import click

from engine.cli.common import fail, retired_option
from engine.cli.rules import rules


@rules.command("new-pack")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--id", "pack_id", help="Pack id, e.g. lu-2024 (default: derived from the folder name).")
@click.option("--title", help="文件标题 Title of the document.")
@click.option("--number", help="文号, e.g. 鲁政发〔2024〕1号.")
@click.option("--issuer", help="发文机关, e.g. 山东省人民政府.")
@click.option(
    "--issued-on", "issued_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="印发日期 YYYY-MM-DD."
)
@click.option("--valid-from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="有效期起 YYYY-MM-DD.")
@click.option("--valid-to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="有效期止 YYYY-MM-DD.")
# --from names record files elsewhere (letter, notice): one meaning per option name.
@retired_option("--from", "--valid-from", "有效期起")
@retired_option("--to", "--valid-to", "有效期止")
@click.option("--implements", help="上级文件 the document this one implements.")
@click.option("--force", is_flag=True, help="Overwrite an existing pack.yaml.")
def new_pack(
    directory: str,
    pack_id: str | None,
    title: str | None,
    number: str | None,
    issuer: str | None,
    issued_on: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    implements: str | None,
    force: bool,
) -> None:
    """Write DIRECTORY/pack.yaml; what is not given is left as 待填写 for lint to flag.

    The pack id is --id, else derived from the folder's name (lu-2024 from "Lu 2024"); a name it
    cannot come from (Chinese characters only) asks for --id.
    """
    from engine.authoring.scaffold import pack_id_from_folder, pack_yaml, write_new
    from engine.policy.terms import is_valid_id

    root = Path(directory)
    rule = "小写英文字母、数字、点、下划线或连字符,以字母或数字开头,最长81个字符"
    if pack_id is not None and not is_valid_id(pack_id):
        fail(
            f"政策包编号“{pack_id}”不合格式(须为{rule}),例如 --id lu-2024。"
            f" Invalid pack id {pack_id!r}: lowercase letters, digits, '.', '_' and '-'."
        )
    if pack_id is None:
        name = root.resolve().name
        pack_id = pack_id_from_folder(name)
        if pack_id is None:
            fail(
                f"无法从文件夹名“{name}”得出政策包编号(须为{rule},且含英文字母):"
                f"请用 --id 指定,例如 --id lu-2024。"
                f" Cannot derive a pack id from the folder name {name!r}; give one with --id."
            )
        if pack_id != name:
            click.echo(f"政策包编号 pack id: {pack_id}(由文件夹名“{name}”得出,可用 --id 另行指定)")
    text = pack_yaml(
        pack_id=pack_id,
        title=title,
        number=number,
        issuer=issuer,
        issued_on=issued_on.date() if issued_on else None,
        start=start.date() if start else None,
        end=end.date() if end else None,
        implements=implements,
    )
    try:
        write_new(root / "pack.yaml", text, force)
    except FileExistsError as exc:
        fail(str(exc))
    click.echo(f"已创建 created {root / 'pack.yaml'}")
    click.echo(
        f'下一步 next: compliance rules new --pack {shlex.quote(directory)} --measure N --title "条款标题"'
    )


@rules.command("new")
@click.option(
    "--pack",
    "pack",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="The pack: its folder (made with `rules new-pack`).",
)
@click.option("--measure", type=click.IntRange(0, 999), required=True, help="条款序号 measure number.")
@click.option("--title", required=True, help="条款标题 title of the measure.")
@click.option(
    "--subject",
    type=click.Choice(["project", "town", "county", "city", "enterprise", "department"]),
    default="project",
    show_default=True,
    help="Kind of record the example check reviews.",
)
@click.option("--name", "slug", default=None, help="Short English name for the file, e.g. invest-per-mu.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new(pack: str, measure: int, title: str, subject: str, slug: str | None, force: bool) -> None:
    """Write a commented rule file for one measure, with an example check to adapt."""
    from engine.authoring.scaffold import rule_file_name, rule_yaml, write_new
    from engine.policy.loader import BASE_CATALOG, FIELDS_FILE, rule_files
    from engine.records.catalog import catalog_files, load_catalog
    from engine.records.yamlsource import YamlSourceError, load_yaml_file

    pack_dir = pack
    root = Path(pack_dir)
    number, start = None, None
    try:  # best effort: a pack.yaml with placeholders still gives what it has
        meta = load_yaml_file(root / "pack.yaml").data or {}
        number = (
            meta.get("number")
            if isinstance(meta.get("number"), str) and "待填写" not in meta["number"]
            else None
        )
        period = meta.get("period") or {}
        start = period.get("from") if isinstance(period.get("from"), dt.date) else None
    except (YamlSourceError, OSError, AttributeError):
        pass
    for f in rule_files(root):
        try:
            data = load_yaml_file(f).data
        except YamlSourceError:
            continue
        if isinstance(data, dict) and data.get("measure") == measure:
            fail(f"measure {measure} is already in {f}")
    files = catalog_files(BASE_CATALOG) + ([root / FIELDS_FILE] if (root / FIELDS_FILE).is_file() else [])
    try:
        catalog = load_catalog(files)
    except YamlSourceError as exc:
        fail(str(exc))
    path = root / rule_file_name(measure, slug)
    try:
        write_new(
            path,
            rule_yaml(
                measure=measure,
                title=title,
                pack_number=number,
                start=start,
                catalog=catalog,
                subject=subject,
            ),
            force,
        )
    except FileExistsError as exc:
        fail(str(exc))
    click.echo(f"已创建 created {path}")
    click.echo(f"下一步 next: 按说明修改后运行 compliance rules lint {pack_dir}")
