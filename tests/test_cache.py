"""The token cache: file format and safety, reuse across processes, custom stores."""
from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap

import pytest

import teslapy
from teslapy import cache

PASSWORD = "starship"


def read(path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# -- the file store ---------------------------------------------------------------------------


def test_missing_file_is_an_empty_cache(tmp_path):
    assert cache.load_cache_file(str(tmp_path / "none.json")) == {}


def test_file_is_written_atomically_and_readable_by_its_owner_only(tmp_path):
    path = str(tmp_path / "cache.json")
    old_umask = os.umask(0)             # the widest umask: the file must still be 0600
    try:
        cache.dump_cache_file(path, {"a@b.c": {"url": "x"}})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read(path) == {"a@b.c": {"url": "x"}}
    cache.dump_cache_file(path, {"a@b.c": {"url": "y"}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["cache.json"]      # no temp files left behind


def test_a_world_readable_cache_becomes_owner_only_when_rewritten(tmp_path):
    path = tmp_path / "cache.json"
    path.write_text("{}")
    path.chmod(0o644)
    cache.dump_cache_file(str(path), {"k": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "cache.json")
    cache.dump_cache_file(path, {"keep": True})
    with pytest.raises(TypeError):
        cache.dump_cache_file(path, {"bad": object()})
    assert read(path) == {"keep": True}
    with pytest.raises(teslapy.CacheError, match="Cannot write token cache .*missing"):
        cache.dump_cache_file(str(tmp_path / "missing" / "cache.json"), {})
    assert sorted(os.listdir(tmp_path)) == ["cache.json"]


def test_an_unreadable_path_is_a_cache_error(tmp_path):
    (tmp_path / "cache.json").mkdir()
    with pytest.raises(teslapy.CacheError, match="Cannot read token cache .*cache.json"):
        cache.load_cache_file(str(tmp_path / "cache.json"))


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe garbage"])
def test_a_corrupt_file_is_moved_aside_with_a_warning(tmp_path, caplog, content):
    path = tmp_path / "cache.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="teslapy.cache"):
        assert cache.load_cache_file(str(path)) == {}
    assert not path.exists()
    (aside,) = tmp_path.glob("cache.json.corrupt-*")
    assert aside.read_bytes() == content                      # the user's data is kept
    assert str(path) in caplog.text and str(aside) in caplog.text


def test_login_over_a_corrupt_cache_keeps_the_corrupt_file(make_tesla, cache_file, tmp_path):
    with open(cache_file, "w") as handle:
        handle.write('{"someone@else.com": {"url": ')       # truncated by a crash
    tesla = make_tesla()
    tesla.fetch_token()
    assert list(read(cache_file)) == ["elon@tesla.com"]
    (aside,) = tmp_path.glob("cache.json.corrupt-*")
    assert aside.read_text() == '{"someone@else.com": {"url": '


def test_malformed_entries_are_ignored_not_fatal(make_tesla, cache_file):
    with open(cache_file, "w") as handle:
        json.dump({"elon@tesla.com": {"url": 5, "sso": "x", "ownerapi": {"no": "token"}}}, handle)
    tesla = make_tesla()
    assert not tesla.authorized
    tesla.fetch_token()
    assert tesla.authorized


# -- the Tesla session and its cache --------------------------------------------------------------


def test_saving_keeps_the_other_accounts(make_tesla, cache_file):
    other = {"url": "https://auth.tesla.com/", "sso": {"access_token": "a", "refresh_token": "r"},
             "ownerapi": {"access_token": "o", "created_at": 1, "expires_in": 2}}
    with open(cache_file, "w") as handle:
        json.dump({"someone@else.com": other}, handle)
    make_tesla().fetch_token()
    data = read(cache_file)
    assert data["someone@else.com"] == other and data["elon@tesla.com"]["ownerapi"]["access_token"]
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o600


def test_tokens_cached_for_another_api_host_are_not_used(make_tesla, sim, cache_file):
    first = make_tesla()
    first.fetch_token()
    entry = read(cache_file)["elon@tesla.com"]
    assert entry["api_url"] == sim.urls["api_base_url"]
    entry["api_url"] = "https://owner-api.teslamotors.com/"       # as if minted by Tesla
    with open(cache_file, "w") as handle:
        json.dump({"elon@tesla.com": entry}, handle)
    second = make_tesla()
    assert not second.authorized                      # those tokens are not sent here
    second.fetch_token()                              # a fresh login instead
    assert second.token["access_token"] != entry["ownerapi"]["access_token"]
    assert read(cache_file)["elon@tesla.com"]["api_url"] == sim.urls["api_base_url"]


def test_entries_without_an_api_host_are_used(make_tesla, cache_file):
    make_tesla().fetch_token()
    data = read(cache_file)
    del data["elon@tesla.com"]["api_url"]             # written by an older version
    with open(cache_file, "w") as handle:
        json.dump(data, handle)
    tesla = make_tesla(password=None)
    assert tesla.authorized
    assert tesla.vehicle_list()


def run_script(code: str, env: dict, cwd) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=str(cwd), env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_a_second_process_works_from_the_cache_without_password(make_tesla, sim, sim_env, cache_file, tmp_path):
    first = make_tesla()
    first.fetch_token()
    sso = sim.faults.add(service="sso", status=500, times=None)
    script = f"""
        import teslapy
        with teslapy.Tesla('elon@tesla.com', '', cache_file={cache_file!r}) as tesla:
            tesla.fetch_token()
            print(tesla.token['access_token'])
            print(','.join(v['display_name'] for v in tesla.vehicle_list()))
    """
    result = run_script(script, sim_env, tmp_path)
    assert result.returncode == 0, result.stderr
    token, names = result.stdout.splitlines()
    assert token == first.token["access_token"]
    assert names == "Tim's Tesla,Nikola,Road Runner"
    assert sso.hits == 0


def test_processes_logging_in_at_once_keep_each_others_accounts(sim, sim_env, cache_file, tmp_path):
    script = """
        import sys, teslapy
        with teslapy.Tesla(sys.argv[1], sys.argv[2], cache_file=sys.argv[3]) as tesla:
            tesla.fetch_token()
    """
    env = {**os.environ, **sim_env}
    logins = [("elon@tesla.com", PASSWORD), ("cn@tesla.cn", PASSWORD), ("mfa@tesla.com", "wrong")]
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), email, password, cache_file],
                              cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for email, password in logins]
    errors = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [proc.returncode for proc in procs[:2]] == [0, 0], errors
    assert "Credentials rejected" in errors[2]      # rejected: it must not disturb the file
    assert sorted(read(cache_file)) == ["cn@tesla.cn", "elon@tesla.com"]
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o600


# -- the seed's pluggable cache example, unchanged -----------------------------------------------

SEED_EXAMPLE = '''
import json
import sqlite3

def db_load():
    con = sqlite3.connect('cache.db')
    cur = con.cursor()
    cache = {}
    try:
        for row in cur.execute('select * from teslapy'):
            cache[row[0]] = json.loads(row[1])
    except sqlite3.OperationalError:
        pass
    con.close()
    return cache

def db_dump(cache):
    con = sqlite3.connect('cache.db')
    con.execute('create table if not exists teslapy (email text primary key, data json)')
    for email, data in cache.items():
        con.execute('replace into teslapy values (?, ?)', [email, json.dumps(data)])
    con.commit()
    con.close()
'''


def test_the_sqlite_loader_and_dumper_from_the_readme_work(sim, sim_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example: dict = {}
    exec(SEED_EXAMPLE, example)
    db_load, db_dump = example["db_load"], example["db_dump"]
    with teslapy.Tesla("elon@tesla.com", PASSWORD, cache_loader=db_load, cache_dumper=db_dump) as tesla:
        tesla.fetch_token()
        token = tesla.token["access_token"]
    assert os.listdir(tmp_path) == ["cache.db"]          # no cache.json: the custom store is used
    assert db_load()["elon@tesla.com"]["ownerapi"]["access_token"] == token
    sso = sim.faults.add(service="sso", status=500, times=None)
    with teslapy.Tesla("elon@tesla.com", "") as tesla:
        tesla.cache_loader = db_load                       # also settable as attributes
        tesla.cache_dumper = db_dump
        assert tesla.authorized and tesla.token["access_token"] == token
        assert tesla.vehicle_list()
    assert sso.hits == 0


def test_a_deeply_nested_cache_file_is_moved_aside(cache_file):
    with open(cache_file, "w") as out:
        out.write("[" * 100000)
    assert cache.load_cache_file(cache_file) == {}
    assert not os.path.exists(cache_file)
    (aside,) = [name for name in os.listdir(os.path.dirname(cache_file)) if ".corrupt-" in name]
    with open(os.path.join(os.path.dirname(cache_file), aside)) as kept:
        assert kept.read() == "[" * 100000


def test_the_next_save_removes_what_a_killed_writer_left(tesla, cache_file):
    directory = os.path.dirname(cache_file)
    leftover = os.path.join(directory, ".cache.json.abc123.tmp")
    with open(leftover, "w") as out:
        out.write('{"elon@tesla.com": {"sso": {"refresh_token": "secret"}}}')
    tesla.refresh_token()
    assert not os.path.exists(leftover)
    assert sorted(os.listdir(directory)) == ["cache.json", "cache.json.lock"]
