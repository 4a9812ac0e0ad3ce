"""`tierwise tune --apply`: routing.overrides written into the user's config as a text edit
(comments and unrelated keys kept, a broken file refused with nothing written, a re-apply
changes nothing), and the router honouring the overrides, never below a risk promotion."""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tierwise.config import Layer, build_config
from tierwise.config.edit import Override, plan_overrides, write
from tierwise.core.errors import ConfigError
from tierwise.core.records import evolve
from tierwise.ledger import Ledger, LedgerRow

USER = """\
# my tierwise settings: keep these comments
[routing]
escalate_window_s = 600  # ten minutes is enough for me

[budget]
daily_usd = 2.5   # hard-won number
mode = "soft"
"""
LOWER = Override("docstring", "none", "mid", "budget", "applied 96% (n=80, 28 days)")
RAISE = Override("review", "sql", "mid", "frontier", "re-asked 31% of the time (n=42, 28 days)")


def loaded(text: str) -> dict[tuple[str, str, str], str]:
    config, _ = build_config([Layer("test", tomllib.loads(text), trusted=True)])
    return {(o.action, o.risk, o.tier): o.to for o in config.routing.overrides}


def test_apply_keeps_every_character_of_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER, encoding="utf-8")
    path.chmod(0o640)
    edit = plan_overrides(path, [LOWER, RAISE], today="2026-12-01")
    assert path.read_text(encoding="utf-8") == USER  # planning writes nothing
    assert edit.diff().startswith(f"--- {path}\n+++ {path} (after --apply)\n")
    write(edit)
    after = path.read_text(encoding="utf-8")
    assert after.startswith(USER)  # comments, keys, spacing: all kept, byte for byte
    assert "# tierwise tune 2026-12-01: docstring at mid → budget: applied 96% (n=80" in after
    assert loaded(after) == {
        ("docstring", "none", "mid"): "budget",
        ("review", "sql", "mid"): "frontier",
    }
    assert "# tierwise tune 2026-12-01: review on sql code at mid → frontier: re-asked 31%" in after
    assert tomllib.loads(after)["budget"]["daily_usd"] == 2.5
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert edit.done == (
        "added: docstring on none at mid → budget",
        "added: review on sql at mid → frontier",
    )


def test_a_second_apply_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER, encoding="utf-8")
    write(plan_overrides(path, [LOWER], today="2026-12-01"))
    once = path.read_text(encoding="utf-8")
    again = plan_overrides(path, [LOWER], today="2026-12-08")
    assert not again.changed and again.diff() == ""
    assert again.done == ("already there: docstring on none at mid → budget",)
    write(again)
    assert path.read_text(encoding="utf-8") == once


def test_a_changed_suggestion_edits_the_existing_table_in_place(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        USER + '\n[[routing.overrides]]  # mine\naction = "docstring"\ntier = "mid"\n'
        'to = "budget"  # I set this\n\n[server]\ndisplay = "message"\n',
        encoding="utf-8",
    )
    write(plan_overrides(path, [Override("docstring", "none", "mid", "local", "n=90")], today="d"))
    after = path.read_text(encoding="utf-8")
    assert 'to = "local"  # I set this' in after and "[[routing.overrides]]  # mine" in after
    assert loaded(after) == {("docstring", "none", "mid"): "local"}
    assert after.count("[[routing.overrides]]") == 1 and after.endswith('display = "message"\n')


def test_a_raise_of_a_cell_an_override_feeds_changes_that_override_too(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER, encoding="utf-8")
    write(plan_overrides(path, [LOWER], today="2026-12-01"))  # mid → budget
    # Now the budget cell is re-asked: budget → mid. One override per request: mid → budget
    # must not keep sending mid's requests to budget.
    write(plan_overrides(path, [Override("docstring", "none", "budget", "mid", "n=30")], today="x"))
    assert loaded(path.read_text(encoding="utf-8")) == {
        ("docstring", "none", "mid"): "mid",
        ("docstring", "none", "budget"): "mid",
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[routing\nbase = 1\n", "invalid TOML as it is"),
        ('[routing]\nmin_tier = "cheap"\n', "routing.min_tier"),
        (
            '[routing]\noverrides = [{action = "review", tier = "mid", to = "budget"}]\n',
            "edit it by hand",
        ),
    ],
)
def test_a_broken_or_unusual_config_is_refused_and_nothing_is_written(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    wanted = (
        [LOWER] if "overrides" not in text else [Override("review", "none", "mid", "frontier", "n")]
    )
    with pytest.raises(ConfigError, match=says) as caught:
        plan_overrides(path, wanted, today="2026-12-01")
    assert "nothing written" in str(caught.value)
    assert path.read_text(encoding="utf-8") == text


def test_a_missing_config_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    write(plan_overrides(path, [LOWER], today="2026-12-01"))
    assert loaded(path.read_text(encoding="utf-8")) == {("docstring", "none", "mid"): "budget"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_override_may_not_lower_risky_code_below_its_promotion() -> None:
    text = '[[routing.overrides]]\naction = "review"\nrisk = "sql"\ntier = "frontier"\nto = "mid"\n'
    with pytest.raises(ConfigError, match="promoted to frontier for risk; an override may not"):
        loaded(text)
    assert loaded(text.replace('risk = "sql"', 'risk = "none"')) == {
        ("review", "none", "frontier"): "mid"
    }


def test_a_workspace_file_may_not_set_overrides() -> None:
    from tierwise.config.layers import TRUSTED_ONLY

    assert ("routing", "overrides") in TRUSTED_ONLY


def test_the_router_honours_an_override_and_never_lowers_below_a_risk_promotion() -> None:

    from tests.unit.test_router import CLOUD_ONLY, JWT, POLICY, TOKENS, signals, task
    from tierwise.core.task import Action
    from tierwise.core.tiers import Tier
    from tierwise.routing.router import RouteState, route

    policy = evolve(
        POLICY,
        overrides={
            (Action.DOCSTRING, "none", Tier.BUDGET): Tier.MID,
            # Only a Policy built by hand can hold this (the config refuses it at load): the
            # router keeps the floor itself.
            (Action.REVIEW, "auth", Tier.FRONTIER): Tier.BUDGET,
            (Action.REVIEW, "none", Tier.MID): Tier.BUDGET,
        },
    )
    raised = route(task(Action.DOCSTRING), signals(), policy, CLOUD_ONLY, RouteState(), TOKENS)
    assert raised.tier is Tier.MID and raised.cell_tier is Tier.MID and raised.risk == "none"
    assert "routing.overrides: docstring on none code at budget → mid" in raised.reasons
    # Repeats still escalate from the overridden tier; the cell stays the rules' tier.
    again = route(
        task(Action.DOCSTRING), signals(), policy, CLOUD_ONLY, RouteState(repeats=1), TOKENS
    )
    assert again.tier is Tier.FRONTIER and again.cell_tier is Tier.MID
    risky = route(task(Action.REVIEW), signals(risks=JWT), policy, CLOUD_ONLY, RouteState(), TOKENS)
    assert risky.tier is Tier.FRONTIER and risky.risk == "auth"
    assert any("ignored routing.overrides frontier → budget" in r for r in risky.reasons)
    plain = route(task(Action.REVIEW), signals(), policy, CLOUD_ONLY, RouteState(), TOKENS)
    assert plain.tier is Tier.BUDGET and plain.risk == "none"
    # A tier the user chose is no cell of the rules.
    chosen = route(
        task(Action.REVIEW, Tier.MID), signals(), policy, CLOUD_ONLY, RouteState(), TOKENS
    )
    assert chosen.tier is Tier.MID and chosen.cell_tier is None
    # A docstring of risky code is grouped under "none": risk does not promote docstrings.
    doc = route(
        task(Action.DOCSTRING), signals(risks=JWT), policy, CLOUD_ONLY, RouteState(), TOKENS
    )
    assert doc.risk == "none"


def tune_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "TIERWISE_CONFIG": str(home / "config.toml"),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tierwise", "tune", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_tune_previews_without_apply_and_writes_with_it(tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    ledger = Ledger(tmp_path / "replayed.sqlite3")
    start = datetime.now(UTC) - timedelta(days=6)
    for i in range(30):
        ledger.record(
            LedgerRow(
                action="docstring",
                language="python",
                tier="mid",
                cell_tier="mid",
                ts=(start + timedelta(hours=4 * i)).isoformat(),
                target=f"t{i}",
                output_tokens=150,
                input_tokens=600,
                cost_usd=0.004,
                applied=True,
                verified=True,
            )
        )
    ledger.close()
    (tmp_path / "config.toml").write_text(USER, encoding="utf-8")
    preview = tune_cli(tmp_path, "--ledger", str(tmp_path / "replayed.sqlite3"))
    assert preview.returncode == 0, preview.stderr
    assert "docstring at mid: never re-asked, applied 100% (30 of 30 edits)" in preview.stdout
    assert "→ suggest mid → budget (saves ~$" in preview.stdout
    assert "`tierwise tune --apply` would write into" in preview.stdout
    assert '+to = "budget"' in preview.stdout
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == USER  # nothing changed
    as_json = json.loads(
        tune_cli(tmp_path, "--json", "--ledger", str(tmp_path / "replayed.sqlite3")).stdout
    )
    assert as_json["applied"] is False and as_json["suggestions"][0]["suggest"] == "budget"
    assert as_json["suggestions"][0]["requests"] == 30
    done = tune_cli(tmp_path, "--apply", "--ledger", str(tmp_path / "replayed.sqlite3"))
    assert done.returncode == 0, done.stderr
    assert "added: docstring on none at mid → budget" in done.stdout
    after = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert after.startswith(USER) and loaded(after) == {("docstring", "none", "mid"): "budget"}
    again = tune_cli(tmp_path, "--apply", "--ledger", str(tmp_path / "replayed.sqlite3"))
    assert "has every suggested override already: nothing to write" in again.stdout
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == after
    (tmp_path / "config.toml").write_text(USER + "[broken\n", encoding="utf-8")
    refused = tune_cli(tmp_path, "--apply", "--ledger", str(tmp_path / "replayed.sqlite3"))
    assert refused.returncode == 3 and "invalid TOML" in refused.stderr
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == USER + "[broken\n"
