"""What never reaches the shared cache: answers for local_only and excluded paths, answers whose
target or context holds a secret, answers holding a secret, a local model's answers, answers
over the size cap. After each run every key and value in Redis is read back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider
from tests.team.developers import SECRET, SOURCE, ask, developer, lookup_keys, model_calls
from tests.team.redis_server import RedisServer, text
from tierwise.cache.shared import SharedCache
from tierwise.core.errors import UsageError
from tierwise.engine import Engine

GITHUB = "ghp_" + "Rk8Vn2Lw7Qz4Xp9Mb3Ts6Hd1Jf5Gc0Ay8Ue2W"
SECRET_IN_TARGET = "sk-ant-api03-Zx7Qp2Lm9Rt4Vw8Yb3Nc6Hd1Jf5Kg0Ms2Pq7Tu9Wx4Ya8Bc3De6Fh1Gj5Lk0Mn"


def _local_provider(fake: FakeProvider) -> str:
    return (
        f'[providers.local]\nkind = "openai"\nbase_url = "{fake.openai_base_url}"\nlocal = true\n'
        '\n[privacy]\nlocal_only = ["private/**"]\n'
    )


@pytest.fixture
def responder(fake: FakeProvider) -> Iterator[Callable[[Callable[[dict[str, Any]], str]], None]]:
    def use(fn: Callable[[dict[str, Any]], str]) -> None:
        fake.responder = fn

    yield use
    fake.responder = fake_reply


def _everything(l2: redis.Redis) -> dict[str, Any]:
    """Every key in the server and its decoded content (answers decoded with the team secret)."""
    reader = SharedCache("redis://unused", "team-a", SECRET.encode(), ttl_s=60, timeout_s=1,
                         max_entry_bytes=1 << 20, lock_ms=1000)  # fmt: skip
    out: dict[str, Any] = {}
    for raw in l2.scan_iter():
        key = raw.decode()
        kind = text(l2.type(raw))
        if kind == "hash":
            out[key] = {text(k): text(v) for k, v in l2.hgetall(raw).items()}
        else:
            value = l2.get(raw) or b""
            out[key] = reader.decode(key, value) if ":lock:" not in key else text(value)
    return out


def _answer_commands(l2: redis.Redis) -> int:
    """Commands the server has run on answers and locks so far (spend counters not counted)."""
    stats = l2.info("commandstats")
    names = ("get", "mget", "set", "exists", "eval", "del", "unlink")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in names)


def _private_keys(engine: Engine, **kwargs: Any) -> set[str]:
    keys = set(lookup_keys(engine, **kwargs))
    return keys | {f"tierwise:v3:team-a:lock:{key.rsplit(':', 1)[1]}" for key in keys}


def test_local_only_redacted_and_secret_answers_never_reach_redis(
    tmp_path: Path,
    fake: FakeProvider,
    l2: redis.Redis,
    redis_server: RedisServer,
    responder: Callable[[Callable[[dict[str, Any]], str]], None],
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url, extra=_local_provider(fake))
    root = Path(alice.workspace_root or ".")
    private = str(root / "private" / "weights.py")
    # 1. a local_only path: answered by the local model, kept on this machine
    before = _answer_commands(l2)
    kept = ask(alice, path=private)
    assert kept.decision.tier.label == "local" and kept.model == "local:default"
    # 2. a target holding a key: redacted before sending, and the answer kept here
    redacted = ask(alice, needle="def connect", tier="budget")
    assert redacted.decision.tier.label == "budget"
    # Neither even looked L2 up or took a lock there (their keys stay on this machine).
    assert _answer_commands(l2) == before
    # 3. an answer in which the scanner finds a secret
    responder(lambda body: f"Connects with the token {GITHUB}.")
    leaky = ask(alice, "explain", needle="return json.dumps", tier="budget")
    responder(fake_reply)
    assert leaky.model is not None and leaky.model.startswith("anthropic:")
    # 4. a local model's answer for an ordinary path ("local:default" is another model on
    # each machine)
    local = ask(alice, "review", tier="local")
    assert local.model == "local:default"
    # 5. and one ordinary answer, which is shared
    shared = ask(alice, tier="budget")
    assert shared.model is not None and shared.model.startswith("anthropic:")

    stored = _everything(l2)
    answers = {k: v for k, v in stored.items() if ":spend:" not in k}
    # Only the ordinary answer is there.
    assert set(answers) == {lookup_keys(alice, tier="budget")[0]}, sorted(answers)
    everything = repr(stored)
    for fragment in (GITHUB, SECRET_IN_TARGET, "connect", "private", "weights.py", str(root)):
        assert fragment not in everything, fragment
    for kwargs in (
        {"needle": "def connect", "tier": "budget"},
        {"action": "explain", "needle": "return json.dumps", "tier": "budget"},
        {"action": "review", "tier": "local"},
    ):
        assert not _private_keys(alice, **kwargs) & set(stored), kwargs
    # Each was answered and is in Alice's own cache (L1) all the same.
    bob = developer(tmp_path / "bob", fake, redis_server.url, extra=_local_provider(fake))
    calls = model_calls(fake)
    assert not ask(bob, needle="def connect", tier="budget").cache_hit
    assert model_calls(fake) == calls + 1


def test_an_excluded_file_never_reaches_redis(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    root = Path(alice.workspace_root or ".")
    with pytest.raises(UsageError, match=r"privacy\.exclude"):
        ask(alice, path=str(root / "secrets" / "weights.py"))
    assert alice.never_shared(str(root / "secrets" / "weights.py")) == "privacy.exclude"
    assert l2.dbsize() == 0


def test_an_answer_over_the_size_cap_stays_on_this_machine(
    tmp_path: Path,
    fake: FakeProvider,
    l2: redis.Redis,
    redis_server: RedisServer,
    responder: Callable[[Callable[[dict[str, Any]], str]], None],
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url, cache_extra="max_entry_kb = 1\n")
    responder(lambda body: "## What it does\n\n" + "It weighs the heavy items. " * 80)
    big = ask(alice, "explain", needle="return json.dumps")
    responder(fake_reply)
    assert not big.cache_hit
    assert [k for k in l2.scan_iter() if b":explain:" in k] == []
    small = ask(alice)
    assert small.model is not None
    assert [k for k in l2.scan_iter() if b":docstring:" in k]  # small answers still go
    # A value planted over the cap is refused before it is decoded.
    (key,) = [k.decode() for k in l2.scan_iter(match="*:docstring:*")]
    l2.set(key, b"{" + b" " * 2048 + b"}")
    bob = developer(tmp_path / "bob", fake, redis_server.url, cache_extra="max_entry_kb = 1\n")
    assert not ask(bob).cache_hit
    assert bob.cache is not None and bob.cache.stats().shared["shared_too_large"] == 1


def test_the_same_code_without_the_key_is_shared(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    """The control for the first test: the function with an ordinary string is shared."""
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    plain = SOURCE.replace(SECRET_IN_TARGET, "placeholder")
    ask(alice, source=plain, needle="def connect", tier="budget")
    assert [k for k in l2.scan_iter() if b":docstring:" in k]
