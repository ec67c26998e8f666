"""Seeded synthetic records of every kind, for the benchmark and the parallel test.

The same seed gives the same records. Projects spread over every category, county and status the
benchmark pack can reach (some fields left blank, some dates outside the policy period); the other
kinds get the fields the built-in pack tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path

CATEGORIES = [
    "制造业重点项目",
    "技改项目",
    "基础设施",
    "城市更新",
    "公共服务",
    "房地产",
    "服务业",
    "农业",
    "能源",
    "其他",
]
COUNTIES = [
    "牡丹区",
    "定陶区",
    "曹县",
    "单县",
    "成武县",
    "巨野县",
    "郓城县",
    "鄄城县",
    "东明县",
    "菏泽高新区",
]
PROJECT_HEADER = [
    "项目编号",
    "项目名称",
    "申报单位",
    "所在县区",
    "所在镇街",
    "项目类别",
    "总投资(万元)",
    "用地面积(亩)",
    "年税收(万元)",
    "是否位于省级特色小镇",
    "申报日期",
    # the yes/no columns the Heze pack's project checks read (measures 10, 12, 15, 17, 24, 26)
    "是否城镇新建民用建筑",
    "是否公共建筑",
    "规划条件是否要求配建教育设施",
    "是否建筑施工项目",
    "是否按项目参加工伤保险",
    "是否纳入新型城镇化重点项目库",
    # and what those checks judge once they apply
    "是否按绿色建筑标准建设",
    "消防设计审查是否合格",
    "是否同步规划建设配套教育设施",
    "是否符合国土空间规划",
    "项目用地是否落实",
    "项目审批手续是否办结",
    "环评是否批复",
    "是否取得施工许可",
]
_START = dt.date(2024, 4, 20)  # a few records fall before the policy period: notices, not findings
_DAYS = (dt.date(2025, 12, 31) - _START).days


def _blank(rng: random.Random, p: float = 0.03) -> bool:
    return rng.random() < p


def project_rows(n: int, seed: int = 7) -> Iterator[list[str]]:
    """Rows of a project CSV (Chinese headers, as departments submit them)."""
    rng = random.Random(seed)
    for i in range(n):
        inv = rng.choice([rng.randint(50, 2000), rng.randint(2000, 40000), round(rng.uniform(100, 9000), 2)])
        land = round(rng.uniform(2, 600), 1)
        tax = round(rng.uniform(0, 3000) if rng.random() < 0.8 else rng.uniform(0, 30), 2)
        if rng.random() < 0.05:  # exactly on a threshold
            inv, land = 20000, 100
        yield [
            f"BP-{i:07d}",
            f"基准项目{i}",
            f"基准企业{i % 997}",
            rng.choice(COUNTIES),
            f"镇{i % 131}",
            "" if _blank(rng) else rng.choice(CATEGORIES),
            "" if _blank(rng) else str(inv),
            "" if _blank(rng) else str(land),
            "" if _blank(rng) else str(tax),
            "" if _blank(rng) else rng.choice(["是", "否", "否"]),
            (_START + dt.timedelta(days=rng.randint(0, _DAYS))).isoformat(),
            *(
                "" if _blank(rng) else ("是" if rng.random() < p_yes else "否")
                for p_yes in (0.3, 0.2, 0.1, 0.6, 0.9, 0.15, 0.9, 0.95, 0.8, 0.9, 0.9, 0.85, 0.9, 0.8)
            ),
        ]


def write_projects_csv(path: Path, n: int, seed: int = 7) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(PROJECT_HEADER)
        w.writerows(project_rows(n, seed))
    return path


def other_kinds(n: int, seed: int = 11) -> Iterator[dict[str, object]]:
    """JSON objects of the kinds other than project (town, county, city, enterprise, department)."""
    rng = random.Random(seed)
    for i in range(n):
        kind = ("town", "county", "city", "enterprise", "department")[i % 5]
        year = rng.choice([2024, 2025])
        obj: dict[str, object] = {
            "编号": f"B{kind[:2].upper()}-{i:07d}",
            "类型": kind,
            "名称": f"{kind}{i}",
            "报告年度": year,
        }
        if kind == "town":
            obj |= {
                "镇区常住人口": rng.randint(5000, 80000),
                "基期镇区常住人口": rng.randint(5000, 50000),
                "基期年度": 2023,
                "镇区人口目标档次": rng.choice(["6万人", "3万人", "无"]),
            }
        elif kind == "city":
            obj |= {
                "投资500万元以上技改项目数": rng.randint(250, 350),
                "新能源和可再生能源装机": rng.randint(400, 700),
                "基期新能源和可再生能源装机": 450,
                "基期年度": 2023,
            }
        yield obj


def write_other_jsonl(path: Path, n: int, seed: int = 11) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for obj in other_kinds(n, seed):
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return path
