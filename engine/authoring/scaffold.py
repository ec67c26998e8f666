"""Starting files for policy staff: a pack's metadata and a commented rule file.

``compliance rules new-pack DIR`` writes ``pack.yaml``; ``compliance rules new --pack DIR --measure N``
writes one measure file with every field explained in Chinese and one example check to adapt.
Whatever the writer cannot know is left as a placeholder containing ``待填写``, which
``compliance rules lint`` reports until it is filled in.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from engine.policy.terms import ID_MAX, is_valid_id
from engine.records.catalog import Catalog

PLACEHOLDER = "待填写"


def placeholder(what: str) -> str:
    return f"【{PLACEHOLDER}:{what}】"


# What each field of a rule file means, in the words of the policy officer (used by lint too).
FIELD_HELP: dict[str, str] = {
    # pack.yaml
    "id": "编号:小写字母、数字、点、下划线或连字符,如 lu-2024 或 m5.invest_per_mu",
    "number": "文号,如 鲁政发〔2024〕1号",
    "issuer": "发文机关,如 山东省人民政府",
    "issued_on": "印发日期,写成 2024-01-15 的形式",
    "period": "政策包的有效期:from 起始日期,to 截止日期(含当日);在累计目标中则是累计期 first_year/last_year",
    "source_text": "政策原文文件的路径(可选)",
    "implements": "本文件所落实的上级文件(可选)",
    "fields": "本政策包新增的记录字段文件(可选,默认 fields.yaml)",
    # measure file
    "measure": "条款序号(整数),与文件中的编号一致",
    "title": "标题",
    "section": "所属章节,如 二、实施产城融合行动",
    "lead_departments": "牵头单位列表,如 [省发展改革委, 省工业和信息化厅]",
    "source": "政策原文(逐字摘录)",
    "in_force": "有效期(可选):from/to;不写则沿用条款或政策包的有效期",
    "notes": "备注(可选)",
    "checks": "检查项列表,每项检查一个可核验的要求",
    # check
    "subject": "审查对象:project(建设项目)、town(镇)、county(县区)、city(市)、enterprise(企业)、department(部门)",
    "nature": "性质:standard 逐项标准、target 期限目标、annual 年度目标、cumulative 累计目标、"
    "relative 相对目标、duty 定性要求(是/否)",
    "applies_when": '适用条件(可选),如 category == "制造业重点项目";不写则对该类对象全部适用',
    "quantity": "被审查的数值:记录字段或算式,如 total_investment / land_area(总投资 ÷ 用地面积)",
    "unit": "数值的单位,须与字段单位一致,如 万元/亩",
    "op": "比较方式:>=(不低于)、>(高于)、<=(不高于)、<(低于)、==(等于)、!=(不等于)",
    "threshold": "标准值:unit 单位;values 按生效日期排列的取值,每个取值写 from、value、reference",
    "due": "期限(期限目标必填),如 2025-12-31",
    "baseline": "基期(可选):year 固定的基期年份(取同一对象该年的报告),value 基期算式(可选),"
    "reference 无该年报告时用的公开数字及出处",
    "soft": "软性用语(原文有“左右”“力争”“原则上”“基本实现”“适时”“积极”等时必填):word 用语,band 容差带"
    "(默认标准值的5%),结论落在容差带内的标为需人工复核",
    "role": "standard(标准,默认)或 inclusion(计入标准:不达标的不计入,记为不适用,而非不符合)",
    "reported": "现成比率或合计数所在的字段(可选):分项齐全时按分项计算判定,只有现成数时按填报数判定并注明",
    "counted": "按下级记录统计本数字的统计项编号(可选,见条款的 aggregates)",
    "pace": "期限前的进度:linear 按基期到目标的直线(默认),flat 按目标本身(如年均增速)",
    "aggregates": "按下级记录统计的数字(可选):over 被统计的对象,check 计入标准,sum 求和字段,by_county 按县区分组",
    "baseline_period": "基期年份(可选):落在此期间的报告只作基期数据,不单独评判",
    "provenance": "文本来源(可选):publication 发布渠道,url 地址,note 说明(如“据新闻报道转引”)",
    "interpretation": "口径说明:如何理解原文(如“以上”含本数)",
    "amendments": "修订(可选):from 起适用新的 applies_when,并写明 reference 依据",
    "superseded_by": "被另一政策包的检查项取代(可选),写成 包编号:检查项编号",
    "messages": "自定义结论文字(可选)",
    "examples": "示例:每个示例是一条记录和应得的结论(compliant/non_compliant/not_applicable/insufficient_data)",
    "expect": "示例应得的结论",
    "record": "示例记录的字段和取值",
    "name": "示例名称",
    "as_of": "示例的评估日期(可选)",
    "from": "起始日期,写成 2024-01-15 的形式",
    "to": "截止日期,写成 2025-12-31 的形式",
    "value": "标准值(数字;定性要求写 true/false)",
    "reference": "该取值的出处,如 鲁政发〔2024〕1号 第5条",
    "values": "按生效日期排列的标准值",
    "expr": "相对标准的算式(相对目标用),param 代表当时有效的标准值,如 province_rate + param",
    "note": "备注(可选)",
}


def _q(text: str) -> str:
    """A YAML scalar for `text` (quoted when YAML would misread it)."""
    return (
        yaml.safe_dump(text, allow_unicode=True, default_flow_style=True).strip().removesuffix("...").strip()
    )


def pack_id_from_folder(name: str) -> str | None:
    """A valid pack id made from a folder's name, or None when nothing usable is left.

    Full-width and accented letters become plain ones (ＬＵ２０２４ -> lu2024, é -> e), capitals small;
    anything else an id may not hold (spaces, Chinese characters, brackets) separates words with "-";
    leading and trailing separators go and the result is cut to the id's length. An id needs a
    letter: a name of Chinese characters (and digits) only gives None, and the caller asks for --id
    (no transliteration is guessed; "2024" alone would not say which document the pack encodes).
    """
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9_.-]+", "-", text.encode("ascii", "replace").decode("ascii").replace("?", "-"))
    text = re.sub(r"([_.-])[_.-]+", r"\1", text)  # one separator between words
    text = re.sub(r"^[^a-z0-9]+", "", text)[:ID_MAX]
    text = re.sub(r"[^a-z0-9]+$", "", text)
    return text if re.search(r"[a-z]", text) and is_valid_id(text) else None


def pack_yaml(
    *,
    pack_id: str | None,
    title: str | None,
    number: str | None,
    issuer: str | None,
    issued_on: dt.date | None,
    start: dt.date | None,
    end: dt.date | None,
    implements: str | None = None,
) -> str:
    def val(v: object, what: str) -> str:
        if isinstance(v, dt.date):
            return v.isoformat()  # unquoted, so YAML reads a date
        return _q(str(v)) if v is not None else _q(placeholder(what))

    lines = [
        "# 政策包元数据:本文件说明这个文件夹编码的是哪一份政策文件。",
        "# 带“待填写”的内容请按文件原文填好;未填好前 `compliance rules lint` 会逐项提示。",
        "",
        f"# {FIELD_HELP['id']}。检查项在报告中显示为“政策包编号:检查项编号”。",
        f"id: {val(pack_id, '政策包编号,如 lu-2024')}",
        "# 文件标题(全称)",
        f"title: {val(title, '文件标题')}",
        f"# {FIELD_HELP['number']}",
        f"number: {val(number, '文号')}",
        f"# {FIELD_HELP['issuer']}",
        f"issuer: {val(issuer, '发文机关')}",
        f"# {FIELD_HELP['issued_on']}",
        f"issued_on: {val(issued_on, '印发日期 YYYY-MM-DD')}",
        "# 有效期:只有申报日期(或报告年度)落在有效期内的记录才按本政策审查。",
        "period:",
        f"  from: {val(start, '起始日期 YYYY-MM-DD')}",
        f"  to: {val(end, '截止日期 YYYY-MM-DD')}",
    ]
    if implements:
        lines += [f"# {FIELD_HELP['implements']}", f"implements: {_q(implements)}"]
    else:
        lines += [
            f"# {FIELD_HELP['implements']},例如:",
            "# implements: 山东省新型城镇化建设行动方案(2024—2025年)",
        ]
    return "\n".join(lines) + "\n"


def rule_file_name(measure: int, slug: str | None = None) -> str:
    if slug:
        slug = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")
    return f"m{measure:02d}{'-' + slug if slug else ''}.yaml"


def _field_list(catalog: Catalog, kind: str) -> list[str]:
    spec = catalog.kind(kind)
    out = []
    for name, f in spec.fields.items():
        extra = f"({f.unit})" if f.unit else ""
        if f.type == "enum":
            extra = f":{'、'.join(f.choices)}"
        out.append(f"#   {f.label}/{name} {extra}".rstrip())
    return out


def rule_yaml(
    *,
    measure: int,
    title: str,
    pack_number: str | None,
    start: dt.date | None,
    catalog: Catalog,
    subject: str = "project",
) -> str:
    doc = pack_number or placeholder("文号")
    start_s = start.isoformat() if start else _q(placeholder("起始日期 YYYY-MM-DD"))
    ref = _q(f"{doc} 第{measure}条")
    lines = [
        f"# 第{measure}条 {title}",
        "# 本文件把政策的一条编码为可自动审查的检查项。以 # 开头的行是说明,审查时不读取。",
        "# 改完后运行: compliance rules lint <政策包文件夹>  然后  compliance rules test <政策包文件夹>",
        "",
        f"# {FIELD_HELP['measure']}",
        f"measure: {measure}",
        "# 条款标题",
        f"title: {_q(title)}",
        f"# {FIELD_HELP['section']}",
        f"section: {_q(placeholder('所属章节'))}",
        f"# {FIELD_HELP['lead_departments']}",
        f"lead_departments: [{_q(placeholder('牵头单位'))}]",
        f"# {FIELD_HELP['source']}。原文较长时可在 >- 下换行续写。",
        "source: >-",
        f"  {placeholder('粘贴本条原文')}",
        f"# {FIELD_HELP['in_force']}",
        "# in_force: {from: 2024-01-01, to: 2025-12-31}",
        "",
        f"# {FIELD_HELP['checks']}。下面是一个示例检查项,请按本条要求修改;需要多个时复制整段(从 - id 开始)。",
        "checks:",
        f"    # {FIELD_HELP['id']};在本政策包内不得重复",
        f"  - id: m{measure}.invest_per_mu",
        "    # 检查项标题(出现在审查结论里)",
        f"    title: {_q(placeholder('检查项标题,如 工业项目亩均投资'))}",
        f"    # {FIELD_HELP['subject']}",
        f"    subject: {subject}",
        f"    # {FIELD_HELP['nature']}",
        "    nature: standard",
        "    # 本检查项依据的原文句子",
        f"    source: {_q(placeholder('本检查项依据的原文句子'))}",
        f"    # {FIELD_HELP['applies_when']}",
        "    # 可用 and、or、not、in [..] 组合;字段既可写英文名也可写中文名。",
        '    applies_when: category == "制造业重点项目"',
        f"    # {FIELD_HELP['quantity']}",
        "    quantity: total_investment / land_area",
        f"    # {FIELD_HELP['unit']}",
        "    unit: 万元/亩",
        f"    # {FIELD_HELP['op']}",
        '    op: ">="',
        f"    # {FIELD_HELP['threshold']}。标准调整时在 values 下追加一行新的 from/value,旧值保留。",
        "    threshold:",
        "      unit: 万元/亩",
        "      values:",
        f"        - from: {start_s}",
        "          value: 300",
        f"          reference: {ref}",
        f"    # {FIELD_HELP['interpretation']}",
        f"    interpretation: {_q('“以上”按含本数理解(300万元/亩即达标)。')}",
        f"    # {FIELD_HELP['examples']}。每个检查项至少写一个符合和一个不符合的示例。",
        "    examples:",
        "      - name: 刚好达标",
        "        record: {category: 制造业重点项目, total_investment: 30000, land_area: 100}",
        "        expect: compliant",
        "      - name: 未达标",
        "        record: {category: 制造业重点项目, total_investment: 29999, land_area: 100}",
        "        expect: non_compliant",
        "      - name: 其他类别不适用",
        "        record: {category: 房地产, total_investment: 100, land_area: 100}",
        "        expect: not_applicable",
        "      - name: 缺少用地面积",
        "        record: {category: 制造业重点项目, total_investment: 30000}",
        "        expect: insufficient_data",
        "",
        "# 其他可选项(需要时去掉 # 使用):",
        f"#   due: 2025-12-31            {FIELD_HELP['due']}",
        f"#   baseline: {{year: 2023}}  {FIELD_HELP['baseline']}",
        "#   period: {first_year: 2024, last_year: 2025}  累计目标的累计期(nature: cumulative 时必填)",
        "#   in_force: {from: 2024-01-01, to: 2025-12-31}  本检查项的有效期(可选)",
        f"#   messages: {{non_compliant: ...}}  {FIELD_HELP['messages']}",
        f"#   soft: {{word: 左右}}          {FIELD_HELP['soft']}",
        f"#   role: inclusion            {FIELD_HELP['role']}",
        f"#   reported: 现成比率字段       {FIELD_HELP['reported']}",
        f"#   counted: m2.统计项编号       {FIELD_HELP['counted']}",
        f"#   pace: flat                 {FIELD_HELP['pace']}",
        f"#   amendments: [{{from: 2025-01-01, applies_when: ..., reference: ...}}]  {FIELD_HELP['amendments']}",
        f"#   superseded_by: heze-2024:m2.tech_upgrade_project_5m  {FIELD_HELP['superseded_by']}",
        "",
        f"# {catalog.kind(subject).label}({subject})记录可用的字段(中文名/英文名 单位或可选值):",
        *_field_list(catalog, subject),
    ]
    return "\n".join(lines) + "\n"


def write_new(path: Path, text: str, force: bool = False) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
