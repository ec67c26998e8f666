"""Compiled policies cached on disk, keyed by everything that can change them.

Loading and compiling the packs (YAML parsing, validation, three-valued compilation) costs about
0.7 s of CPU; unpickling the result about 0.03 s. The key is a SHA-256 of every YAML file of the
record vocabulary and of each pack folder, the pack folders' order, the Python version and the
source of the ``engine`` package itself (so a changed compiler never reuses an old result). Any
problem reading the cache falls back to compiling; a failed compilation is never cached, so rule
errors are reported every time.

The cache lives in ``$COMPLIANCE_CACHE_DIR`` or ``$XDG_CACHE_HOME/heze-compliance`` (default
``~/.cache/heze-compliance``); ``COMPLIANCE_CACHE_DIR=off`` disables it. Files there are pickles:
the folder must be writable by the user only, like any cache of executable state.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

from engine.policy.loader import BASE_CATALOG, BUILTIN_PACK
from engine.policy.policy import Policy, load_policy
from engine.records.catalog import catalog_files

ENV_VAR = "COMPLIANCE_CACHE_DIR"
KEEP = 8
_ENGINE = Path(__file__).resolve().parents[1]


def cache_dir() -> Path | None:
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return None if explicit.lower() in ("off", "0", "no") else Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "heze-compliance"


def policy_key(pack_dirs: list[str | Path] | None = None) -> str:
    """The fingerprint of everything load_policy(pack_dirs) reads or runs."""
    h = hashlib.sha256(sys.version.encode())
    dirs = [BUILTIN_PACK]
    for d in pack_dirs or []:
        p = Path(d).resolve()
        if p not in dirs:
            dirs.append(p)
    files = sorted(_ENGINE.rglob("*.py"))
    files += catalog_files(BASE_CATALOG)
    for d in dirs:
        h.update(b"pack\0" + str(d).encode() + b"\0")
        files += sorted(q for q in d.rglob("*") if q.is_file() and q.suffix.lower() in (".yaml", ".yml"))
    for f in files:
        h.update(str(f).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def load_policy_cached(pack_dirs: list[str | Path] | None = None) -> Policy:
    """load_policy(pack_dirs), from the cache when the same files were compiled before."""
    folder = cache_dir()
    if folder is None:
        return load_policy(pack_dirs)
    try:
        path = folder / f"policy-{policy_key(pack_dirs)}.pickle"
    except OSError:  # a pack folder that cannot be read: let load_policy report it
        return load_policy(pack_dirs)
    try:
        policy = pickle.loads(path.read_bytes())
        if isinstance(policy, Policy):
            return policy
    except Exception:  # missing, truncated or from another version: compile afresh
        pass
    policy = load_policy(pack_dirs)
    _store(folder, path, policy)
    return policy


def _store(folder: Path, path: Path, policy: Policy) -> None:
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".policy-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(policy, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
        tmp = None
        # Keep the newest few: every edit of a rule file makes a new entry.
        old = sorted(folder.glob("policy-*.pickle"), key=lambda q: q.stat().st_mtime, reverse=True)[KEEP:]
        for q in old:
            q.unlink(missing_ok=True)
    except Exception:  # a read-only home is not an error; the next run compiles again
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
