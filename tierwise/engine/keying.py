"""The cache keys a request looks up, in order, and the model each key belongs to."""

from __future__ import annotations

from tierwise.cache.keys import LOCAL_NAMESPACE, cache_key, context_digest, normalise
from tierwise.config import Config
from tierwise.core.task import Task
from tierwise.core.tiers import MODEL_TIERS, Tier
from tierwise.engine.memo import Memo
from tierwise.handlers.base import Handler
from tierwise.providers.base import DEFAULT_TEMPERATURE
from tierwise.routing.router import Decision

# The sampling temperature every request is sent with (part of the key's generation parameters).
TEMPERATURE = DEFAULT_TEMPERATURE


class NormalForms:
    """What keying remembers: each request's (target, context) normal forms, and the normal
    form of each context piece. Tokenizing is most of the work before a provider call, and a
    burst of requests over one file shares its imports and its classes' signatures."""

    def __init__(self) -> None:
        self.requests: Memo[tuple[str, str]] = Memo()
        self.pieces: Memo[str] = Memo(256)
        # A request's keys (a SHA-256 of the normal form and a canonical JSON each): prepare()
        # computes them and the lookup asks again.
        self.keys: Memo[list[tuple[Tier, str, str]]] = Memo()

    def piece(self, language: str, text: str) -> str:
        """`normalise(language, text)`, remembered."""
        return self.pieces.get((language, text), lambda: normalise(language, text))

    def clear(self) -> None:
        """Forget everything."""
        self.requests.clear()
        self.pieces.clear()
        self.keys.clear()


def keyed_lookups(
    config: Config,
    normal_forms: NormalForms,
    task: Task,
    handler: Handler,
    decision: Decision,
) -> list[tuple[Tier, str, str]]:
    """(tier, model ref, key) of every lookup, in order: the decided tier's chain first,
    then (when allowed) every higher tier's models. An answer is stored under the key of
    the model that actually gave it, so it is found again whichever model asks.
    `normal_forms` remembers the tokenized target and context (a good part of a cache hit),
    and the keys, by everything they are made of (the configuration's parts read too)."""
    ctx = task.context
    target = ctx.target
    cache = config.cache
    remembered = (
        task.action,
        handler.prompt_version,
        target.language,
        target.text,
        ctx.imports,
        ctx.enclosing,
        ctx.callees,
        tuple(task.options.items()),
        decision.tier,
        decision.models,
        cache.serve_from_higher,
        cache.shared.url is not None and cache.shared.team,
        tuple((label, tuple(t.models), t.max_output_tokens) for label, t in config.tiers.items()),
    )
    return normal_forms.keys.get(
        remembered, lambda: _keyed(config, normal_forms, task, handler, decision)
    )


def _keyed(
    config: Config,
    normal_forms: NormalForms,
    task: Task,
    handler: Handler,
    decision: Decision,
) -> list[tuple[Tier, str, str]]:
    target = task.context.target
    ctx = task.context

    def forms() -> tuple[str, str]:
        # Docstrings stay in the key, for the docstring action too: its prompt carries the
        # existing docstring, so a different one may get a different answer.
        return normalise(target.language, target.text), context_digest(
            target.language,
            imports=ctx.imports,
            enclosing=ctx.enclosing,
            callees=ctx.callees,
            normal=normal_forms.piece,
        )

    key = (target.language, target.text, ctx.imports, ctx.enclosing, ctx.callees)
    normalised, context = normal_forms.requests.get(key, forms)
    options = {k: v for k, v in task.options.items() if k != "hints"}
    shared = config.cache.shared
    namespace = shared.team if shared.url is not None else LOCAL_NAMESPACE
    tiers = [decision.tier]
    if config.cache.serve_from_higher:
        tiers += [t for t in MODEL_TIERS if t > decision.tier]
    keys: list[tuple[Tier, str, str]] = []
    for tier in tiers:
        tier_config = config.tiers.get(tier.label)
        refs = decision.models if tier is decision.tier else ()
        refs = tuple(dict.fromkeys([*refs, *(tier_config.models if tier_config else [])]))
        # What the request to these models is sent with (request_for): an answer computed
        # under another output limit or temperature is another answer.
        params: dict[str, str | int | float] = {
            "max_output_tokens": tier_config.max_output_tokens if tier_config else 0,
            "temperature": TEMPERATURE,
        }
        for ref in refs:
            keys.append(
                (
                    tier,
                    ref,
                    cache_key(
                        namespace=namespace,
                        action=task.action.value,
                        prompt_version=handler.prompt_version,
                        model=ref,
                        params=params,
                        language=target.language,
                        normalised_target=normalised,
                        context_digest=context,
                        options=options,
                    ),
                )
            )
    return keys
