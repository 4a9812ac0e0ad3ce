"""Editor settings: the namespace, unset values and camelCase keys."""

from __future__ import annotations

from tierwise.config import Layer, build_config
from tierwise.server.settings import editor_settings


def test_camel_case_editor_keys_become_the_config_keys() -> None:
    raw = {
        "tierwise": {
            "server": {"showTierVariants": True, "logLevel": "debug", "display": None},
            "actions": {"docstringStyle": "numpy"},
            "routing": {"riskPromotesTo": {"review": "mid"}, "maxTier": "mid"},
        }
    }
    data = editor_settings(raw)
    assert data is not None
    config, warnings = build_config([Layer("workspace/configuration", data, trusted=False)])

    assert warnings == []
    assert config.server.show_tier_variants is True
    assert config.server.log_level == "debug"
    assert config.server.display == "document"  # null means "unset", so the default stays
    assert config.actions.docstring_style == "numpy"
    assert config.routing.risk_promotes_to["review"] == "mid"
    assert config.routing.max_tier == "mid"


def test_names_that_are_not_camel_case_are_left_alone() -> None:
    data = editor_settings({"prompts": {"review": "x"}, "privacy": {"exclude": ["*.PEM"]}})
    assert data == {"prompts": {"review": "x"}, "privacy": {"exclude": ["*.PEM"]}}


def test_settings_without_the_namespace_are_taken_as_they_are() -> None:
    assert editor_settings({"server": {"display": "none"}}) == {"server": {"display": "none"}}
    assert editor_settings(None) is None
