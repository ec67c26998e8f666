"""Compiled policies cached on disk, keyed by everything that can change them.

Loading and compiling the packs (YAML parsing, validation, three-valued compilation) costs about
0.7 s of CPU; unpickling the result about 0.03 s. The key is a SHA-256 of every YAML file of the
record vocabulary and of each pack folder, the pack folders' order, the Python version and the
source of the ``engine`` package itself (so a changed compiler never reuses an old result). Any
problem reading the cache falls back to compiling; a failed compilation is never cached, so rule
errors are reported every time.

The cache lives in ``$COMPLIANCE_CACHE_DIR`` or ``$XDG_CACHE_HOME/heze-compliance`` (default
``~/.cache/heze-compliance``); ``COMPLIANCE_CACHE_DIR=off`` disables it.

Files there are pickles, and unpickling runs code, so nothing is unpickled unless it is proven ours:

- the folder (and the folder holding the key) must be a real directory owned by the user and not
  writable by group or others, else the cache is not used at all (nothing read, nothing written);
- each entry is ``MAGIC + HMAC-SHA256(key, cache key + pickle) + pickle``; the key is 32 random bytes
  in ``KEY_FILE`` of the user's own cache folder (``$XDG_CACHE_HOME/heze-compliance``), created 0600
  and refused unless it is a regular file the user owns that no one else can read or write;
- an entry is read only if it is a regular file (no symlink) the user owns, not writable by group or
  others, at most ``MAX_ENTRY`` bytes, and its HMAC verifies; otherwise it is ignored and replaced
  by a freshly compiled one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import stat
import sys
import tempfile
from pathlib import Path

from engine import resources
from engine.policy.loader import BASE_CATALOG, BUILTIN_PACK
from engine.policy.policy import Policy, load_policy
from engine.records.catalog import catalog_files

ENV_VAR = "COMPLIANCE_CACHE_DIR"
KEEP = 8
_ENGINE = resources.engine_dir()


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "heze-compliance"


def cache_dir() -> Path | None:
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return None if explicit.lower() in ("off", "0", "no") else Path(explicit)
    return _user_cache()


KEY_FILE = "cache-hmac.key"
MAGIC = b"HZPC1\n"
MAX_ENTRY = 256 << 20  # a compiled policy is a few MB; anything far larger is not ours


def _safe_dir(folder: Path, create: bool) -> bool:
    """A real directory the user owns that group and others cannot write (created 0700 if missing)."""
    if not hasattr(os, "getuid"):
        return False  # no ownership to check: no cache
    try:
        if create and not os.path.lexists(folder):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _open_own(path: Path, private: bool) -> tuple[int, os.stat_result] | None:
    """Open a regular file the user owns (never through a symlink) that others cannot write (or read, if private)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & (0o077 if private else 0o022):
        os.close(fd)
        return None
    return fd, st


def _read_key() -> bytes | None:
    """The per-user secret (created on first use), or None when it cannot be trusted."""
    folder = _user_cache()
    if not _safe_dir(folder, create=True):
        return None
    path = folder / KEY_FILE
    for _ in range(2):
        opened = _open_own(path, private=True)
        if opened is not None:
            fd, _st = opened
            with os.fdopen(fd, "rb") as fh:
                key = fh.read(64)
            if len(key) == 32:
                return key
        # Missing, or not one we can trust: replace it (the folder is ours, so this is safe).
        try:
            if os.path.lexists(path):
                os.unlink(path)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        except FileExistsError:
            continue  # another process created it at the same moment: read theirs
        except OSError:
            return None
    return None


def _sign(key: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(key, name.encode() + b"\0" + payload, hashlib.sha256).digest()


def _load_verified(path: Path, key: bytes) -> Policy | None:
    """The cached policy if the entry is ours and untouched; None (never unpickled) on any doubt."""
    opened = _open_own(path, private=False)
    if opened is None:
        return None
    fd, st = opened
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > MAX_ENTRY:
            return None
        data = fh.read(MAX_ENTRY + 1)
    head, mac, payload = data[: len(MAGIC)], data[len(MAGIC) : len(MAGIC) + 32], data[len(MAGIC) + 32 :]
    if head != MAGIC or len(data) > MAX_ENTRY or not hmac.compare_digest(mac, _sign(key, path.name, payload)):
        return None
    try:
        policy = pickle.loads(payload)  # verified: written by this user's own _store
    except Exception:  # from another version of the classes: compile afresh
        return None
    return policy if isinstance(policy, Policy) else None


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
    if folder is None or not _safe_dir(folder, create=True):
        return load_policy(pack_dirs)  # off, or a folder others could have planted files in
    key = _read_key()
    if key is None:
        return load_policy(pack_dirs)
    try:
        path = folder / f"policy-{policy_key(pack_dirs)}.pickle"
    except OSError:  # a pack folder that cannot be read: let load_policy report it
        return load_policy(pack_dirs)
    policy = _load_verified(path, key)
    if policy is not None:
        return policy
    policy = load_policy(pack_dirs)
    _store(folder, path, policy, key)
    return policy


def _store(folder: Path, path: Path, policy: Policy, key: bytes) -> None:
    tmp = None
    try:
        payload = pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".policy-")  # 0600, ours
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + _sign(key, path.name, payload) + payload)
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
