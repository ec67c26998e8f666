"""Where the store lives by default: import-light, so commands can name it without loading SQLAlchemy.

``--db`` wins, else ``$COMPLIANCE_DB``, else ``compliance.db`` in the user's data folder
(platformdirs' ``user_data_dir("heze-compliance")``: ``$XDG_DATA_HOME/heze-compliance`` or
``~/.local/share/heze-compliance`` on Linux, ``~/Library/Application Support/heze-compliance`` on
macOS, ``%LOCALAPPDATA%\\heze-compliance`` on Windows). So ``compliance runs`` finds the runs of
``compliance evaluate`` from any working directory.

This module imports only the standard library and platformdirs; ``engine/store/__init__.py`` loads
its other modules lazily, so ``import engine.store.location`` stays cheap (evaluate's ``--db``
help names the default without importing the store).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "COMPLIANCE_DB"
DEFAULT_DB_FILE = "compliance.db"
APP_NAME = "heze-compliance"


def default_db_path() -> Path:
    """The default SQLite file: compliance.db in the user's data folder (not created here)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / DEFAULT_DB_FILE


def default_data_folder() -> Path:
    """The user's data folder of the tool (the store's folder); the workbench keeps its files under it."""
    return default_db_path().parent


def chosen_db(value: str | None = None) -> str:
    """What the user chose, as given: ``--db``, else $COMPLIANCE_DB, else the default file's path."""
    return value or os.environ.get(ENV_VAR) or str(default_db_path())


def db_help() -> str:
    """The help of every command's ``--db`` option."""
    return (
        f"Store: a database URL (sqlite:///path, postgresql+psycopg://…) or an SQLite file; "
        f"default ${ENV_VAR}, else {default_db_path()}."
    )
