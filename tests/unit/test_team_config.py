"""[cache.shared] and [budget.team]: the user file only (a workspace file or an editor can never
point the cache at a server), and checked when turned on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.config import Layer, build_config, load_config
from tierwise.config.schema import editor_settings
from tierwise.core.errors import ConfigError

SHARED = {"url": "redis://cache.example:6379/0", "team": "acme-payments"}


def test_a_workspace_file_can_never_point_the_cache_at_a_server(tmp_path: Path) -> None:
    (tmp_path / ".tierwise.toml").write_text(
        '[cache.shared]\nurl = "redis://evil.example:6379"\nteam = "acme-payments"\n'
        'secret_env = "HOME"\n\n[budget.team]\ndaily_usd = 0.01\nmode = "hard"\n',
        encoding="utf-8",
    )
    user = tmp_path / "user.toml"
    user.write_text("", encoding="utf-8")
    config, warnings = load_config(config_path=user, workspace_root=tmp_path)
    assert config.cache.shared.url is None and config.cache.shared.secret_env != "HOME"
    assert config.budget.team.daily_usd == 0.0
    joined = " ".join(warnings)
    assert "'cache.shared.url'" in joined and "'budget.team.daily_usd'" in joined
    assert "shared cache come only from your user config" in joined


def test_an_editor_can_neither(tmp_path: Path) -> None:
    user = Layer("user.toml", {"cache": {"shared": SHARED}}, True)
    editor = Layer(
        "workspace/configuration",
        {"cache": {"shared": {"url": "redis://evil.example", "team": "other"}}},
        False,
    )
    config, warnings = build_config([user, editor])
    assert config.cache.shared.url == SHARED["url"] and config.cache.shared.team == "acme-payments"
    assert warnings
    assert not [s for s in editor_settings() if s.key.startswith(("cache.shared", "budget.team"))]


def test_the_user_file_turns_it_on() -> None:
    user = Layer(
        "user.toml",
        {"cache": {"shared": {**SHARED, "ttl_days": 7}}, "budget": {"team": {"daily_usd": 20}}},
        True,
    )
    config, warnings = build_config([user])
    assert not warnings
    assert config.cache.shared.url == SHARED["url"] and config.cache.shared.ttl_days == 7
    assert config.cache.shared.secret_env == "TIERWISE_TEAM_SECRET"
    assert config.cache.shared.timeout_ms == 50 and config.cache.shared.max_entry_kb == 64
    assert config.budget.team.daily_usd == 20 and config.budget.team.mode == "soft"


@pytest.mark.parametrize(
    ("shared", "message"),
    [
        ({"url": "http://cache:6379", "team": "t"}, "cache.shared.url: must start with redis://"),
        ({"url": "redis://cache"}, "cache.shared.team: '' must be"),
        ({"url": "redis://cache", "team": "Acme"}, "cache.shared.team: 'Acme' must be"),
        ({"url": "redis://cache", "team": "a:b"}, "cache.shared.team"),
        ({"url": "redis://cache", "team": "a*"}, "cache.shared.team"),
        ({"url": "redis://cache", "team": "t", "ttl_days": 0}, "cache.shared.ttl_days"),
        ({"url": "redis://cache", "team": "t", "timeout_ms": 0}, "cache.shared.timeout_ms"),
        ({"url": "redis://cache", "team": "t", "max_entry_kb": -1}, "cache.shared.max_entry_kb"),
        ({"url": "redis://cache", "team": "t", "lock_wait_s": -1}, "cache.shared.lock_wait_s"),
        ({"url": "redis://cache", "team": "t", "secret_env": " "}, "cache.shared.secret_env"),
    ],
)
def test_bad_shared_settings_name_the_key(shared: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=r"user\.toml") as caught:
        build_config([Layer("user.toml", {"cache": {"shared": shared}}, True)])
    assert message in str(caught.value)


def test_a_team_budget_without_a_shared_cache_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"budget\.team\.daily_usd: a team budget needs"):
        build_config([Layer("user.toml", {"budget": {"team": {"daily_usd": 5}}}, True)])
    with pytest.raises(ConfigError, match=r"budget\.team\.mode"):
        build_config(
            [
                Layer(
                    "user.toml",
                    {"cache": {"shared": SHARED}, "budget": {"team": {"mode": "strict"}}},
                    True,
                )
            ]
        )
