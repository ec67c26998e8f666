"""The reviewing office's settings: its name (the masthead), the letter number prefix, the signature
block and the contact line printed on letters and notices.

Found, later ones winning:

1. built-in defaults (菏泽市推进新型城镇化工作领导小组办公室, prefix 菏城审);
2. the ``[office]`` table of ``compliance.toml`` (the file ``engine.policy.config.config_path`` finds:
   ``$COMPLIANCE_CONFIG`` or ``./compliance.toml``)::

       [office]
       name = "菏泽市推进新型城镇化工作领导小组办公室"
       prefix = "菏城审"
       signature = ["菏泽市推进新型城镇化工作领导小组办公室"]   # lines of the 落款, right-aligned
       contact = "联系人:张三,电话:0530-0000000"

3. environment variables ``COMPLIANCE_OFFICE_NAME``, ``COMPLIANCE_LETTER_PREFIX``,
   ``COMPLIANCE_OFFICE_SIGNATURE`` (lines separated by ``|``), ``COMPLIANCE_OFFICE_CONTACT``;
4. command-line options (``--office``, ``--prefix``), applied by the caller with ``with_overrides``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.policy.config import ConfigError, config_path

DEFAULT_OFFICE = "菏泽市推进新型城镇化工作领导小组办公室"
DEFAULT_PREFIX = "菏城审"
ENV_NAME = "COMPLIANCE_OFFICE_NAME"
ENV_PREFIX = "COMPLIANCE_LETTER_PREFIX"
ENV_SIGNATURE = "COMPLIANCE_OFFICE_SIGNATURE"
ENV_CONTACT = "COMPLIANCE_OFFICE_CONTACT"


class OfficeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = DEFAULT_OFFICE
    prefix: str = DEFAULT_PREFIX
    signature: list[str] = Field(default_factory=list)  # empty: the office name
    contact: str | None = None

    @field_validator("prefix")
    @classmethod
    def _prefix_ok(cls, v: str) -> str:
        v = v.strip()
        if not v or any(c in v for c in "〔〕[]/\\") or any(c.isdigit() for c in v[-1:]):
            raise ValueError(f"bad letter number prefix {v!r} (e.g. 菏城审)")
        return v

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("the office name is empty")
        return v

    @property
    def signature_lines(self) -> list[str]:
        return [line for line in self.signature if line.strip()] or [self.name]

    def with_overrides(self, *, name: str | None = None, prefix: str | None = None) -> OfficeSettings:
        data = self.model_dump()
        if name:
            data["name"] = name
            if not self.signature:
                data["signature"] = []
        if prefix:
            data["prefix"] = prefix
        return OfficeSettings.model_validate(data)


def load_office(cwd: Path | None = None, environ: dict[str, str] | None = None) -> OfficeSettings:
    """Defaults, then compliance.toml's [office], then the environment (see the module docstring)."""
    env = os.environ if environ is None else environ
    data: dict[str, object] = {}
    path = config_path(cwd)
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        table = raw.get("office", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [office] must be a table")
        data.update(table)
    if env.get(ENV_NAME):
        data["name"] = env[ENV_NAME]
    if env.get(ENV_PREFIX):
        data["prefix"] = env[ENV_PREFIX]
    if env.get(ENV_SIGNATURE):
        data["signature"] = [s.strip() for s in env[ENV_SIGNATURE].split("|")]
    if env.get(ENV_CONTACT):
        data["contact"] = env[ENV_CONTACT]
    try:
        return OfficeSettings.model_validate(data)
    except ValidationError as exc:
        where = f"{path} [office] / environment" if path else "environment"
        raise ConfigError(f"{where}: {exc}") from None
