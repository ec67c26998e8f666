"""The compiled-policy cache: reused for the same files, rebuilt when any rule file changes, and never
unpickles bytes it did not sign itself (a planted pickle runs nothing)."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from engine.evaluation.evaluate import Evaluator
from engine.policy.cache import ENV_VAR, KEY_FILE, MAGIC, load_policy_cached, policy_key
from engine.policy.loader import PolicyError
from tests.conftest import LOGIC_PACK, project


@pytest.fixture()
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the per-user key lives there
    return Path(shutil.copytree(LOGIC_PACK, tmp_path / "logic"))


def test_second_load_comes_from_the_cache_and_judges_the_same(pack: Path, tmp_path: Path) -> None:
    first = load_policy_cached([pack])
    assert len(list((tmp_path / "cache").glob("policy-*.pickle"))) == 1
    second = load_policy_cached([pack])
    assert second.fingerprint == first.fingerprint
    rec = project(first, "P1", category="技改项目", total_investment=480, land_area=35, annual_tax=60)
    a = Evaluator(first).evaluate([rec]).findings
    b = Evaluator(second).evaluate([rec]).findings
    assert a and a == b


def test_editing_a_rule_file_changes_the_key(pack: Path) -> None:
    before = policy_key([pack])
    rule = next(p for p in sorted(pack.glob("*.yaml")) if p.name not in ("pack.yaml", "fields.yaml"))
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert policy_key([pack]) != before


def test_a_broken_pack_is_reported_every_time_not_cached(pack: Path, tmp_path: Path) -> None:
    (pack / "zz-broken.yaml").write_text("measure: [\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PolicyError):
            load_policy_cached([pack])
    assert not list((tmp_path / "cache").glob("policy-*.pickle"))


def test_cache_can_be_turned_off(pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "off")
    assert load_policy_cached([pack]).packs
    assert not (tmp_path / "cache").exists()


class _Payload:
    """Unpickling this runs `touch SENTINEL`."""

    def __init__(self, sentinel: Path):
        self.sentinel = sentinel

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.sentinel}",))


def _plant(path: Path, sentinel: Path, signed_like: bool = False) -> None:
    data = pickle.dumps(_Payload(sentinel))
    path.write_bytes((MAGIC + b"\0" * 32 + data) if signed_like else data)


@pytest.mark.parametrize("signed_like", [False, True], ids=["bare-pickle", "forged-header"])
def test_a_planted_pickle_in_the_cache_folder_is_never_unpickled(
    pack: Path, tmp_path: Path, signed_like: bool
) -> None:
    sentinel = tmp_path / "pwned"
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    entry = folder / f"policy-{policy_key([pack])}.pickle"
    _plant(entry, sentinel, signed_like)
    policy = load_policy_cached([pack])
    assert policy.packs and not sentinel.exists()
    assert entry.read_bytes().startswith(MAGIC) and b"os" not in entry.read_bytes()[:64]  # replaced by ours
    assert load_policy_cached([pack]).fingerprint == policy.fingerprint and not sentinel.exists()


def test_a_world_writable_cache_folder_is_not_used_at_all(pack: Path, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o777)
    entry = folder / f"policy-{policy_key([pack])}.pickle"
    load_policy_cached([pack])
    assert not entry.exists()  # nothing written into a folder others can write
    _plant(entry, sentinel)
    assert load_policy_cached([pack]).packs and not sentinel.exists()
    assert not entry.read_bytes().startswith(MAGIC)  # left alone, never read


def test_an_edited_entry_is_ignored_and_replaced(pack: Path, tmp_path: Path) -> None:
    load_policy_cached([pack])
    entry = next((tmp_path / "cache").glob("policy-*.pickle"))
    good = entry.read_bytes()
    entry.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit flipped in the pickle
    assert load_policy_cached([pack]).packs
    assert entry.read_bytes() == good  # compiled afresh and rewritten, signed again


def test_a_signed_entry_moved_under_another_key_is_refused(pack: Path, tmp_path: Path) -> None:
    from engine.policy import cache

    load_policy_cached([pack])
    entry = next((tmp_path / "cache").glob("policy-*.pickle"))
    other = tmp_path / "cache" / ("policy-" + "0" * 64 + ".pickle")
    other.write_bytes(
        entry.read_bytes()
    )  # the name is signed too: an old policy cannot stand in for a new one
    key = (tmp_path / "xdg" / "heze-compliance" / KEY_FILE).read_bytes()
    assert cache._load_verified(entry, key) is not None
    assert cache._load_verified(other, key) is None


def test_the_key_file_is_private_and_a_readable_one_is_replaced(pack: Path, tmp_path: Path) -> None:
    load_policy_cached([pack])
    key = tmp_path / "xdg" / "heze-compliance" / KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    old = key.read_bytes()
    key.chmod(0o644)  # others may have read it: a signature made with it proves nothing
    load_policy_cached([pack])
    assert key.stat().st_mode & 0o777 == 0o600 and key.read_bytes() != old


def test_a_symlinked_entry_is_not_followed(pack: Path, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.pickle"
    _plant(target, sentinel)
    (folder / f"policy-{policy_key([pack])}.pickle").symlink_to(target)
    assert load_policy_cached([pack]).packs and not sentinel.exists()


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="changing a folder's owner needs root"
)
def test_a_cache_folder_owned_by_someone_else_is_not_used(pack: Path, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    entry = folder / f"policy-{policy_key([pack])}.pickle"
    _plant(entry, sentinel)
    os.chown(folder, 4242, 4242)  # planted by another account
    assert load_policy_cached([pack]).packs and not sentinel.exists()
    assert not entry.read_bytes().startswith(MAGIC)  # neither read nor replaced
