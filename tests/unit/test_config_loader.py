"""The config loader (tierwise/config/loader.py) against cattrs, which it replaced.

cattrs structured the settings tree until pass 5 of issue 8. Here it still does, into attrs
classes built from the same annotations and defaults as the record classes of tree.py, and
the two must agree on every file of the corpus: the same settings for a valid one, the same
messages in the same order for a broken one. The corpus is the documented configuration
(docs/configuration.md, docs/team.md), the benchmarks' user file, and one broken file for
each kind of mistake a structurer can report.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest
from cattrs.v import transform_error

from tierwise.config import Layer, build_config, deep_merge, defaults_dict, tree
from tierwise.config.loader import record_fields, structure, unstructure
from tierwise.core.errors import ConfigError
from tierwise.core.records import Record

ROOT = Path(__file__).resolve().parents[2]


def _fresh(cls: type[Record], name: str) -> Callable[[], Any]:
    """A default factory: the field's value in a new instance of the settings class."""
    return lambda: getattr(cls(), name)


def _mirror_classes() -> dict[str, type]:
    """An attrs class for each settings class: same names, field order, types and defaults."""
    made: dict[str, type] = {}

    def mirror(cls: type[Record]) -> type:
        if cls.__name__ in made:
            return made[cls.__name__]
        annotations = inspect.get_annotations(cls)
        init = cls.__dict__["__init__"]
        params = init.__code__.co_varnames[1 : init.__code__.co_argcount]
        given = init.__defaults__ or ()
        defaults = dict(zip(params[len(params) - len(given) :], given, strict=True))
        has_required = any(required for _, _, required in record_fields(cls))
        fields: dict[str, Any] = {}
        for name, _, required in record_fields(cls):
            for used in re.findall(r"\b[A-Z]\w+Config\b|\bModelPrice\b", annotations[name]):
                mirror(getattr(tree, used))
            hint = eval(annotations[name], {}, dict(made))
            if required:
                fields[name] = attrs.field(type=hint)
            elif has_required:  # its defaults are plain values in the signature
                fields[name] = attrs.field(type=hint, default=defaults[name])
            else:  # a list or table defaults to None in the signature: a fresh instance's
                fields[name] = attrs.field(type=hint, default=attrs.Factory(_fresh(cls, name)))
        made[cls.__name__] = attrs.make_class(cls.__name__, fields)
        return made[cls.__name__]

    mirror(tree.Config)
    return made


MIRROR = _mirror_classes()
CONVERTER = cattrs.Converter(forbid_extra_keys=True)


def with_cattrs(data: dict[str, Any]) -> tuple[Any, list[str]]:
    """(the structured settings as plain data, []) or (None, cattrs' messages)."""
    try:
        config: Any = CONVERTER.structure(data, MIRROR["Config"])
    except cattrs.BaseValidationError as exc:
        return None, transform_error(exc, path="$")
    return CONVERTER.unstructure(config), []


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


DOCUMENTED = [
    _toml_blocks(ROOT / "docs" / "configuration.md")[0],
    _toml_blocks(ROOT / "docs" / "team.md")[0],
    '[providers.anthropic]\nkind = "anthropic"\napi_key_env = "ANTHROPIC_API_KEY"\n\n'
    '[tiers.mid]\nmodels = ["anthropic:claude-sonnet-4-5"]\n',
]
BROKEN = {
    "text for a number": "[cache]\nmax_mb = 'lots'\n",
    "a table for a number": "[routing.signals]\nlarge_lines = {a = 1}\n",
    "an array for a float": "[budget]\ndaily_usd = [1.0]\n",
    "a date for an int": "[cache]\nmax_mb = 1979-05-27\n",
    "an array for text or none": "[models.m]\ninput = 1\noutput = 2\ncache_read = []\n",
    "unknown top-level keys": "routign = {}\nzeta = 1\nalpha = 2\nmiddle = 3\n",
    "an unknown key in a section": "[actions]\nbogus = true\n",
    "unknown keys of a provider": "[providers.p]\nkind = 'openai'\nbogus = 1\nzzz = 2\n",
    "a number for a section": "routing = 5\n",
    "text for a section": "[budget]\nteam = 'x'\n",
    "an array for a section": "routing = []\n",
    "a number for a list": "[privacy]\nexclude = 5\n",
    "text for a table": "prompts = 'x'\n",
    "an array for a table": "[routing]\nbase = [1]\n",
    "a number for a provider": "[providers]\np = 5\n",
    "text for a tier": "[tiers]\nmid = 'x'\n",
    "missing required fields": "[models.m]\nsource = 'me'\n",
    "an override missing fields": "[[routing.overrides]]\naction = 'review'\n",
    "a number for an override": "[routing]\noverrides = [5]\n",
    "an override with an extra key": (
        "[[routing.overrides]]\naction = 'review'\ntier = 'mid'\nto = 'budget'\nextra = 2\n"
    ),
    "several at once": (
        "[cache]\nmax_mb = 'x'\nnope = 1\n[budget]\ndaily_usd = 'q'\n"
        "[routing.signals]\nhuge_lines = 'h'\nnope = 2\n[models.m]\noutput = 'y'\n"
    ),
}
# Accepted as cattrs accepted them, and meaning what the user wrote: an unquoted TOML date for
# text (`as_of`), a float with no fraction for an int (an editor's JSON may send 5.0).
ACCEPTED = {
    "a date for text": "[models.m]\ninput = 1\noutput = 2\nas_of = 2026-11-22\n",
    "a whole float for an int": "[routing.signals]\nlarge_lines = 5.0\n",
}
# cattrs converted these (`bool("no")` is True, `list("secrets/*")` nine one-letter patterns,
# `int(5.7)` 5): the user's setting silently meant something else. Refused now, naming the key.
REFUSED = {
    "text for a bool": ("[ledger]\nenabled = 'no'\n", "expected bool at ledger.enabled"),
    "a number for a bool": ("[ledger]\nenabled = 0\n", "expected bool at ledger.enabled"),
    "text for a list": (
        "[privacy]\nexclude = 'secrets/*'\n",
        "expected list at privacy.exclude",
    ),
    "a table for a list": ("[privacy]\nexclude = {a = 1}\n", "expected list at privacy.exclude"),
    "numbers as text": ("[cache]\nmax_mb = '5'\n", "expected int at cache.max_mb"),
    "a bool for an int": ("[cache]\nmax_mb = true\n", "expected int at cache.max_mb"),
    "a float for an int": (
        "[routing.signals]\nlarge_lines = 5.7\n",
        "expected int at routing.signals.large_lines",
    ),
    "infinity for an int": ("[cache]\nmax_mb = inf\n", "expected int at cache.max_mb"),
    "text for a float": ("[budget]\ndaily_usd = '1.5'\n", "expected float at budget.daily_usd"),
    "a bool for a float": ("[budget]\ndaily_usd = false\n", "expected float at budget.daily_usd"),
    "a number for text": ("[server]\nlog_level = 5\n", "expected str at server.log_level"),
    "a number in a list of text": (
        "[privacy]\nlocal_only = ['*.pem', 2]\n",
        "expected str at privacy.local_only[1]",
    ),
    "text for the overrides": (
        "[routing]\noverrides = 'x'\n",
        "expected list at routing.overrides",
    ),
}


def _merged(text: str) -> dict[str, Any]:
    return deep_merge(defaults_dict(), tomllib.loads(text))


@pytest.mark.parametrize("text", DOCUMENTED, ids=["configuration.md", "team.md", "bench"])
def test_a_documented_file_gives_the_settings_cattrs_gave(text: str) -> None:
    data = _merged(text)
    config, errors = structure(data)
    assert errors == []
    expected, problems = with_cattrs(data)
    assert problems == []
    assert unstructure(config) == expected


# cattrs refused these too, as "unknown error (...)" and at the wrong path.
CATTRS_REFUSED_UNCLEARLY = {"infinity for an int", "text for the overrides"}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_values_of_another_spelling_are_read_as_cattrs_read_them(name: str) -> None:
    data = _merged(ACCEPTED[name])
    config, errors = structure(data)
    expected, problems = with_cattrs(data)
    assert errors == problems == []
    assert unstructure(config) == expected
    assert unstructure(config) != defaults_dict()  # the file did change something


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_value_of_the_wrong_type_is_refused_where_cattrs_converted_it(name: str) -> None:
    text, said = REFUSED[name]
    data = _merged(text)
    config, errors = structure(data)
    assert config is None
    assert errors == [f"invalid value for type, {said.replace(' at ', ' @ $.')}"]
    with pytest.raises(ConfigError) as caught:
        build_config([Layer("user.toml", tomllib.loads(text), True)])
    assert str(caught.value) == f"user.toml: invalid value for type, {said}"
    if name not in CATTRS_REFUSED_UNCLEARLY:
        assert with_cattrs(data)[1] == []  # cattrs took it, and the setting meant another thing


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_gets_the_messages_cattrs_gave(name: str) -> None:
    data = _merged(BROKEN[name])
    config, errors = structure(data)
    _, expected = with_cattrs(data)
    assert config is None
    assert expected  # cattrs refused it too
    assert errors == expected


def test_the_user_sees_file_key_and_problem(tmp_path: Path) -> None:
    data = tomllib.loads(BROKEN["several at once"])
    with pytest.raises(ConfigError) as caught:
        build_config([Layer("user.toml", data, True)])
    assert str(caught.value) == (
        "user.toml: invalid value for type, expected int at routing.signals.huge_lines; "
        "unknown keys (nope) at routing.signals; "
        "invalid value for type, expected float at budget.daily_usd; "
        "invalid value for type, expected int at cache.max_mb; unknown keys (nope) at cache; "
        "required field missing at models['m'].input; "
        "invalid value for type, expected float at models['m'].output"
    )


def test_the_defaults_as_plain_data_are_cattrs_unstructuring_of_them() -> None:
    assert defaults_dict() == CONVERTER.unstructure(MIRROR["Config"]())
