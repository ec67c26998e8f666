"""docs/authoring.md, executed: the tutorial cannot rot.

The tutorial marks what a reader does with HTML comments that do not render:

* ``<!-- tutorial-file: PATH -->`` before a fenced block: the reader writes this file (its content
  must also equal ``docs/tutorial/PATH``, the copy shipped for readers);
* ``<!-- tutorial-edit: PATH: "OLD" => "NEW" -->``: the reader edits a file (``\\n`` for newlines); a
  following ``yaml`` block that is not a file shows part of the result and must appear in the file;
* ``<!-- expect: exit=N contains="..." file="F" file-contains="..." -->`` before a ``bash`` block:
  the block is run and its exit status and output (or the file it wrote) checked.

Every step runs in order in a fresh folder beside a link to ``samples/``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "authoring.md"
SHIPPED = ROOT / "docs" / "tutorial"

_MARK = re.compile(r"<!--\s*(tutorial-file|tutorial-edit|expect):\s*(.*?)\s*-->", re.S)
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


@dataclass
class Step:
    kind: str  # file | edit | run | show
    text: str = ""
    path: str = ""
    old: str = ""
    new: str = ""
    exit: int = 0
    contains: list[str] = field(default_factory=list)
    out_file: str | None = None
    file_contains: list[str] = field(default_factory=list)


def _unescape(s: str) -> str:
    return s.replace("\\n", "\n")


def parse_tutorial(text: str) -> list[Step]:
    """The steps of the tutorial, in reading order."""
    steps: list[Step] = []
    pending: Step | None = None
    pos = 0
    tokens = sorted(
        [(m.start(), "mark", m) for m in _MARK.finditer(text)]
        + [(m.start(), "fence", m) for m in _FENCE.finditer(text)],
        key=lambda t: t[0],
    )
    for start, tag, m in tokens:
        if start < pos:
            continue  # a marker inside a fenced block
        pos = m.end()
        if tag == "mark":
            what, body = m.group(1), m.group(2)
            if what == "tutorial-file":
                pending = Step("file", path=body.strip())
            elif what == "tutorial-edit":
                em = re.fullmatch(r'(.+?):\s*"(.*)"\s*=>\s*"(.*)"', body, re.S)
                assert em, f"bad tutorial-edit marker: {body}"
                steps.append(
                    Step(
                        "edit",
                        path=em.group(1).strip(),
                        old=_unescape(em.group(2)),
                        new=_unescape(em.group(3)),
                    )
                )
            else:
                pending = Step("run")
                for key, val in re.findall(r'([\w-]+)=("[^"]*"|\S+)', body):
                    val = val.strip('"')
                    if key == "exit":
                        pending.exit = int(val)
                    elif key == "contains":
                        pending.contains.append(val)
                    elif key == "file":
                        pending.out_file = val
                    elif key == "file-contains":
                        pending.file_contains.append(val)
            continue
        lang, body = m.group(1), m.group(2)
        if pending is not None and pending.kind == "file":
            pending.text = body
            steps.append(pending)
        elif pending is not None and pending.kind == "run":
            assert lang == "bash", f"expect marker before a {lang} block"
            pending.text = body
            steps.append(pending)
        elif lang == "bash":
            raise AssertionError(f"bash block without an expect marker: {body!r}")
        elif lang == "yaml" and steps and steps[-1].kind == "edit":
            steps.append(Step("show", text=body, path=steps[-1].path))
        pending = None
    return steps


STEPS = parse_tutorial(DOC.read_text(encoding="utf-8"))


def test_tutorial_has_the_steps_the_issue_asks_for() -> None:
    commands = " ".join(s.text for s in STEPS if s.kind == "run")
    for needed in (
        "rules new-pack",
        "rules new ",
        "rules lint",
        "rules test",
        "evaluate --rules",
        "--history",
    ):
        assert needed in commands, needed
    files = [s.path for s in STEPS if s.kind == "file"]
    assert "lu-2024/m05-investment-intensity.yaml" in files


def test_files_shown_in_the_tutorial_match_the_shipped_copies() -> None:
    for s in STEPS:
        if s.kind == "file" and s.path.startswith("lu-2024/"):
            assert (SHIPPED / s.path).read_text(encoding="utf-8") == s.text, s.path


def test_tutorial_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "samples").symlink_to(ROOT / "samples")
    env = dict(os.environ)
    env.pop("COMPLIANCE_RULES", None)
    env.pop("COMPLIANCE_CONFIG", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = "200"
    ran = 0
    for i, s in enumerate(STEPS):
        where = f"step {i + 1} ({s.kind} {s.path or s.text.strip()[:60]!r})"
        if s.kind == "file":
            target = work / s.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(s.text, encoding="utf-8")
        elif s.kind == "edit":
            target = work / s.path
            text = target.read_text(encoding="utf-8")
            assert text.count(s.old) == 1, f"{where}: the text to change is not in the file exactly once"
            target.write_text(text.replace(s.old, s.new), encoding="utf-8")
        elif s.kind == "show":
            assert s.text in (work / s.path).read_text(encoding="utf-8"), f"{where}: shown text not in file"
        else:
            for line in s.text.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    assert shlex.split(line)[0] == "compliance", f"{where}: only compliance commands"
            res = subprocess.run(
                ["bash", "-c", s.text],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            out = res.stdout + res.stderr
            assert res.returncode == s.exit, f"{where}: exit {res.returncode}, expected {s.exit}\n{out}"
            for c in s.contains:
                assert c in out, f"{where}: output lacks {c!r}\n{out}"
            if s.out_file:
                written = (work / s.out_file).read_text(encoding="utf-8-sig")
                for c in s.file_contains:
                    assert c in written, f"{where}: {s.out_file} lacks {c!r}"
            ran += 1
    assert ran >= 10
