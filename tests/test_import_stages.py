"""Each stage imports only the stages below it: no import circles (issue 15).

Read from the source (every `import`, at the top of a module or inside a function), so a lazy
import that closes a circle is caught too; and each stage is imported alone in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "engine"

# What each stage may import besides itself. Evaluation and the store are side by side: neither
# knows the other; the pipeline moves chunks between them.
ALLOWED: dict[str, set[str]] = {
    "records": set(),
    "policy": {"records"},
    "evaluation": {"records", "policy"},
    "store": {"records", "policy"},
    "authoring": {"records", "policy", "evaluation"},
    "pipeline": {"records", "policy", "evaluation", "store"},
    "render": {"records", "policy", "evaluation", "store"},
    "web": {"records", "policy", "evaluation", "store", "pipeline", "render"},
    "cli": {"records", "policy", "evaluation", "store", "authoring", "pipeline", "render", "web"},
}

# Not stages: engine/resources.py locates package data for every stage, and the data packages it opens
# (rules/ and reports/ mapped into the package by pyproject.toml).
BELOW_EVERY_STAGE = {"resources", "_rules", "_reports"}


def _stage_imports(stage: str) -> set[tuple[str, str, int]]:
    out = set()
    for path in (ROOT / stage).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "engine" and len(parts) > 1 and (ROOT / parts[1]).is_dir():
                    out.add((parts[1], str(path.relative_to(ROOT.parent)), node.lineno))
    return out


def test_every_stage_of_the_engine_is_listed():
    stages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert stages - {"web"} <= set(ALLOWED), (
        f"a new stage needs its place in ALLOWED: {stages - set(ALLOWED)}"
    )


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_a_stage_imports_only_the_stages_below_it(stage):
    if not (ROOT / stage).is_dir():
        pytest.skip(f"no stage {stage}")
    wrong = sorted(
        f"{where}:{line} imports engine.{other}"
        for other, where, line in _stage_imports(stage)
        if other != stage and other not in ALLOWED[stage]
    )
    assert not wrong, "\n".join(wrong)


def test_the_allowed_imports_have_no_circle():
    def reach(stage: str, seen: tuple[str, ...]) -> None:
        for other in ALLOWED.get(stage, ()):
            assert other not in seen, f"circle: {' -> '.join((*seen, other))}"
            reach(other, (*seen, other))

    for stage in ALLOWED:
        reach(stage, (stage,))


@pytest.mark.parametrize("stage", ["records", "policy", "evaluation", "store", "pipeline", "render", "web"])
def test_a_stage_imports_alone_in_a_fresh_interpreter(stage):
    code = (
        f"import sys, engine.{stage}, importlib, pkgutil\n"
        f"for m in pkgutil.walk_packages(engine.{stage}.__path__, 'engine.{stage}.'):\n"
        f"    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "print(sorted({n.split('.')[1] for n in sys.modules if n.startswith('engine.') and n.count('.') >= 1}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr
    loaded = set(ast.literal_eval(out.stdout.strip().splitlines()[-1])) - {stage} - BELOW_EVERY_STAGE
    assert loaded <= ALLOWED[stage], f"engine.{stage} loaded {sorted(loaded - ALLOWED[stage])}"
