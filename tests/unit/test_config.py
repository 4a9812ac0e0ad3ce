"""Configuration: layered merge, validation messages naming file and key, and the trust rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.config import Config, Layer, build_config, deep_merge, load_config, load_file_layers
from tierwise.core.errors import ConfigError


def test_layers_merge_deeply_in_order() -> None:
    user = Layer(
        "user.toml", {"routing": {"base": {"review": "frontier"}}, "budget": {"daily_usd": 5}}, True
    )
    ws = Layer("ws.toml", {"routing": {"base": {"docstring": "local"}}}, False)
    editor = Layer("initializationOptions", {"budget": {"mode": "hard"}}, False)
    config, warnings = build_config([user, ws, editor])
    assert config.routing.base["review"] == "frontier"  # kept from the user file
    assert config.routing.base["docstring"] == "local"  # workspace
    assert config.routing.base["design"] == "mid"  # default survives
    assert (config.budget.daily_usd, config.budget.mode) == (5.0, "hard")
    assert warnings == []


def test_later_layer_does_not_wipe_earlier_sibling_keys() -> None:
    # The regression from lsp-notes: pulling workspace/configuration must not lose init options.
    init = Layer("initializationOptions", {"server": {"show_tier_variants": True}}, False)
    pulled = Layer("workspace/configuration", {"server": {"display": "message"}}, False)
    config, _ = build_config([init, pulled])
    assert config.server.show_tier_variants is True
    assert config.server.display == "message"


def test_untrusted_layer_cannot_set_endpoints_or_keys() -> None:
    evil = Layer(
        "/repo/.tierwise.toml",
        {
            "providers": {
                "local": {"base_url": "http://attacker:8080/v1"},
                "anthropic": {"api_key_env": "HOME"},
            },
            "routing": {"base": {"review": "budget"}},
        },
        False,
    )
    config, warnings = build_config([evil])
    assert config.providers["local"].base_url is None
    assert config.providers["anthropic"].api_key_env == "ANTHROPIC_API_KEY"
    assert config.routing.base["review"] == "budget"  # routing is allowed
    assert len(warnings) == 1
    assert "/repo/.tierwise.toml" in warnings[0]
    assert (
        "providers.local.base_url" in warnings[0]
        and "providers.anthropic.api_key_env" in warnings[0]
    )


def test_trusted_user_file_may_set_endpoints() -> None:
    user = Layer(
        "user.toml", {"providers": {"local": {"base_url": "http://127.0.0.1:8080/v1"}}}, True
    )
    config, warnings = build_config([user])
    assert config.providers["local"].base_url == "http://127.0.0.1:8080/v1"
    assert config.providers["local"].local is True
    assert warnings == []


def test_untrusted_excludes_only_add() -> None:
    ws = Layer("ws", {"privacy": {"exclude": ["*.secret"], "redact": False}}, False)
    config, warnings = build_config([ws])
    assert ".env" in config.privacy.exclude and "*.secret" in config.privacy.exclude
    assert config.privacy.redact is True
    assert any("privacy.redact" in w for w in warnings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"routing": {"base": {"review": "ultra"}}}, "routing.base.review: 'ultra' is not a tier"),
        ({"routing": {"base": {"reveiw": "mid"}}}, "routing.base.reveiw: unknown action"),
        ({"cache": {"max_mb": "lots"}}, "cache.max_mb"),
        ({"budget": {"mode": "maybe"}}, "budget.mode: 'maybe' is not one of soft, hard"),
        (
            {"tiers": {"budget": {"models": ["nobody:m"]}}},
            "tiers.budget.models[0]: unknown provider 'nobody'",
        ),
        ({"tiers": {"budget": {"models": ["no-colon"]}}}, "must look like 'provider:model'"),
        ({"routign": {}}, "unknown keys (routign)"),
        ({"server": {"display": "popup"}}, "server.display"),
    ],
)
def test_invalid_values_name_the_file_and_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config([Layer("my.toml", data, True)])
    assert str(info.value).startswith("my.toml: ")
    assert message in str(info.value)


def test_error_is_pinned_on_the_layer_that_introduced_it() -> None:
    good = Layer("user.toml", {"budget": {"daily_usd": 1}}, True)
    bad = Layer("ws.toml", {"budget": {"mode": "nope"}}, False)
    with pytest.raises(ConfigError, match=r"^ws\.toml: budget\.mode"):
        build_config([good, bad])


def test_deep_merge_replaces_lists_and_scalars() -> None:
    merged = deep_merge({"a": {"b": [1, 2], "c": 1}}, {"a": {"b": [3]}})
    assert merged == {"a": {"b": [3], "c": 1}}


def test_files_user_then_workspace_pyproject(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[routing.base]\nexplain = "frontier"\n')
    ws = tmp_path / "repo"
    ws.mkdir()
    (ws / "pyproject.toml").write_text(
        '[project]\nname="x"\n[tool.tierwise.routing.base]\nexplain = "budget"\n'
    )
    layers = load_file_layers(config_path=user, workspace_root=ws)
    assert [layer.trusted for layer in layers] == [True, False]
    assert layers[1].name.endswith("pyproject.toml [tool.tierwise]")
    config, _ = load_config(config_path=user, workspace_root=ws)
    assert config.routing.base["explain"] == "budget"


def test_dot_tierwise_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tierwise.routing.base]\nexplain = "budget"\n')
    (tmp_path / ".tierwise.toml").write_text('[routing.base]\nexplain = "local"\n')
    config, _ = build_config(load_file_layers(config_path=None, workspace_root=tmp_path))
    assert config.routing.base["explain"] == "local"


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[routing\nbase = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_path=bad)
    assert str(bad) in str(info.value) and "line 1" in str(info.value)


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(config_path=tmp_path / "missing.toml")


def test_defaults_are_valid_and_complete() -> None:
    config, warnings = build_config([])
    assert config == Config() and warnings == []
    assert set(config.routing.base) == {"docstring", "rename", "explain", "review", "design"}


# -- bounds on what a configuration source may hold ---------------------------------------------


def test_a_huge_workspace_prompt_is_ignored_with_a_warning_and_the_rest_applies() -> None:
    huge = "Always explain in the voice of a pirate. " * 25_000  # about 1 MB, 260k tokens
    ws = Layer(
        "/repo/.tierwise.toml",
        {
            "prompts": {"explain": huge, "review": "Check error handling."},
            "budget": {"daily_usd": 3},
        },
        False,
    )

    config, warnings = build_config([ws])

    assert "explain" not in config.prompts  # not paid on every explain
    assert config.prompts["review"] == "Check error handling."
    assert config.budget.daily_usd == 3.0
    (warning,) = warnings
    assert warning.startswith("/repo/.tierwise.toml: prompts.explain is 1,025,000 characters")
    assert "at most 2,000: ignored" in warning and "user config" in warning


def test_a_workspace_prompt_within_the_bound_is_kept() -> None:
    text = "x" * 2_000
    config, warnings = build_config(
        [Layer("/repo/.tierwise.toml", {"prompts": {"explain": text}}, False)]
    )
    assert config.prompts["explain"] == text and warnings == []


def test_the_users_own_prompt_has_a_larger_bound_and_an_error_past_it() -> None:
    config, _ = build_config([Layer("user.toml", {"prompts": {"design": "y" * 20_000}}, True)])
    assert len(config.prompts["design"]) == 20_000
    with pytest.raises(ConfigError, match=r"user\.toml: prompts\.design is 40,000 characters"):
        build_config([Layer("user.toml", {"prompts": {"design": "y" * 40_000}}, True)])


def test_a_config_file_over_a_megabyte_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".tierwise.toml").write_text("# padding\n" * 210_000, encoding="utf-8")  # 2.1 MB

    with pytest.raises(ConfigError, match=r"\.tierwise\.toml: 2\.0 MB is more than the 1 MB"):
        load_file_layers(config_path=None, workspace_root=root)


def test_arrays_nested_past_the_parser_are_an_error_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".tierwise.toml").write_text(
        "x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError, match="nest too deeply to read"):
        load_file_layers(config_path=None, workspace_root=root)


def test_settings_nested_deeper_than_any_tierwise_setting_are_refused() -> None:
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(20):
        deep = {"more": deep}
    with pytest.raises(
        ConfigError,
        match=r"workspace/configuration: nests more than 8 levels deep \(at routing\.more\.more",
    ):
        build_config([Layer("workspace/configuration", {"routing": deep}, False)])
    # The deepest real setting is well inside the bound.
    config, _ = build_config(
        [Layer("user.toml", {"routing": {"signals": {"large_lines": 60}}}, True)]
    )
    assert config.routing.signals.large_lines == 60


def test_an_editor_sending_json_nested_ten_thousand_deep_gets_an_error() -> None:
    deep: list[object] = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(
        ConfigError,
        match=r"initializationOptions: nests more than 8 levels deep \(at privacy\.exclude\[0\]",
    ):
        build_config([Layer("initializationOptions", {"privacy": {"exclude": deep}}, False)])


@pytest.mark.parametrize("retries", [2, -1])
def test_a_model_is_retried_at_most_once(retries: int) -> None:
    layer = Layer("user.toml", {"providers": {"anthropic": {"max_retries": retries}}}, True)
    with pytest.raises(
        ConfigError, match=rf"providers\.anthropic\.max_retries: {retries} is not 0 or 1"
    ):
        build_config([layer])
