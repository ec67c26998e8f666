"""Where the files the commands read are found: package data, located with importlib.resources.

The repository keeps them at its top level (``rules/``, ``reports/``); pyproject.toml maps those
folders into the package as ``engine._rules`` and ``engine._reports`` (setuptools ``package-dir``), so
a wheel carries them and an editable install (``pip install -e .``) finds them in the checkout.
Nothing here computes a path from this file's place in the source tree.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str, *parts: str) -> Path:
    """A folder of package data as a path (the package is installed unpacked, never zipped)."""
    try:
        path = Path(str(files(package).joinpath(*parts)))
    except ModuleNotFoundError as exc:  # a checkout used without `pip install -e .`: no mapping
        raise FileNotFoundError(
            f"程序安装不完整,找不到 {package}:请在项目目录运行 pip install -e . 或安装 wheel"
            f" (package data {package} not importable: install the project)"
        ) from exc
    if not path.is_dir():
        raise FileNotFoundError(f"程序安装不完整,缺少文件夹 {path} (package data of {package} missing)")
    return path


def rules_dir() -> Path:
    """The built-in rule packs (``rules/`` in the repository)."""
    return _folder("engine._rules")


def builtin_pack_dir() -> Path:
    """The Heze 2024 pack every evaluation loads."""
    return _folder("engine._rules", "heze-2024")


def records_dir() -> Path:
    """The record vocabulary: kinds and fields (``rules/records/``)."""
    return _folder("engine._rules", "records")


def templates_dir() -> Path:
    """The letter and notice templates (``reports/templates/``)."""
    return _folder("engine._reports", "templates")


def engine_dir() -> Path:
    """The engine's own source (the policy cache's key covers it)."""
    return _folder("engine")


def migrations_dir() -> Path:
    """The store's Alembic migrations (``engine/store/migrations/``)."""
    return _folder("engine.store.migrations")
