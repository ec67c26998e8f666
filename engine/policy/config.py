"""Extra policy packs named outside the command line.

Besides ``--rules DIR`` (repeatable), packs are found in:

* the environment variable ``COMPLIANCE_RULES``: folders separated by ``os.pathsep`` (``:`` on
  Linux), e.g. ``COMPLIANCE_RULES=/srv/packs/lu-2024:/srv/packs/heze-2026``;
* a ``compliance.toml`` in the working directory (or the file named by ``COMPLIANCE_CONFIG``)::

      [rules]
      packs = ["lu-2024", "/srv/packs/heze-2026"]   # relative to the file's folder

Order: the built-in pack, then the config file's packs, then ``COMPLIANCE_RULES``, then ``--rules``;
a folder named twice is loaded once.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_FILE = "compliance.toml"
ENV_RULES = "COMPLIANCE_RULES"
ENV_CONFIG = "COMPLIANCE_CONFIG"


class ConfigError(ValueError):
    """A config file that cannot be read; names the file."""


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    packs: list[str] = Field(default_factory=list)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: _Rules = Field(default_factory=_Rules)
    # The reviewing office (name, letter prefix, signature, contact): read and checked by
    # engine/render/office.py, which owns its meaning; here only accepted as a table.
    office: dict[str, Any] = Field(default_factory=dict)


def config_path(cwd: Path | None = None) -> Path | None:
    named = os.environ.get(ENV_CONFIG)
    if named:
        return Path(named)
    p = (cwd or Path.cwd()) / CONFIG_FILE
    return p if p.is_file() else None


def configured_packs(cwd: Path | None = None) -> list[Path]:
    """Pack folders from the config file and COMPLIANCE_RULES, in that order."""
    out: list[Path] = []
    path = config_path(cwd)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            cfg = Config.model_validate(data)
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        out.extend((path.parent / p).resolve() for p in cfg.rules.packs)
    env = os.environ.get(ENV_RULES, "")
    out.extend(Path(p).resolve() for p in env.split(os.pathsep) if p.strip())
    return out


def pack_dirs(cli_dirs: tuple[str, ...] | list[str] = ()) -> list[Path]:
    """Configured packs followed by those given with --rules, without repeats."""
    seen: list[Path] = []
    for p in [*configured_packs(), *(Path(d).resolve() for d in cli_dirs)]:
        if p not in seen:
            seen.append(p)
    return seen
