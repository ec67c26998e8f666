"""The workbench's settings: from `compliance serve` options and the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

SECRET_ENV = "COMPLIANCE_SECRET_KEY"
SECRET_FILE = "secret-key"  # in data_dir


def _default_data_dir() -> Path:
    from engine.store.location import default_data_folder

    return default_data_folder() / "workbench"


@dataclass
class WebSettings:
    db: str | None = None  # store URL; default $COMPLIANCE_DB, else compliance.db in the user's data folder
    # signs the session cookie; default $COMPLIANCE_SECRET_KEY, else data_dir/secret-key (made once, 0600)
    secret_key: str | None = None
    # uploads, loaded packs and the key; default the user's data folder beside the store (workbench/)
    data_dir: Path = field(default_factory=_default_data_dir)
    max_upload_bytes: int = 20 * 1024 * 1024
    max_expanded_bytes: int = 200 * 1024 * 1024  # what an XLSX (a zip) may hold once unpacked
    session_seconds: int = 8 * 3600  # idle time after which a session expires
    session_absolute_seconds: int = 12 * 3600  # however busy, log in again after this
    rules_dirs: tuple[str, ...] = ()
    queue: str = "auto"  # auto: procrastinate with PostgreSQL, threads with SQLite; or thread / procrastinate
    https_only: bool = False  # Secure cookies (behind a TLS proxy)
    page_size: int = 50

    def secret(self) -> str:
        """The signing key: given, from the environment, else kept in a file made once (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        if os.environ.get(SECRET_ENV):
            return os.environ[SECRET_ENV]
        path = self.data_dir / SECRET_FILE
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key)
        self.secret_key = key
        return key
