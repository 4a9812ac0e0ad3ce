"""Sentences made from identifiers, for the static docstring skeleton.

"parse_token" -> "Parse token.", "IsValid" (Go) -> "IsValid reports whether it is valid.".
A name that does not start with a known verb is read as a noun ("checksum" -> "Return the
checksum." when the function returns a value).
"""

from __future__ import annotations

import re

from tierwise.core.code import Target
from tierwise.core.records import FrozenRecord, setfield

# Common leading verbs of function names; a name starting with another word is read as a noun.
_VERBS_TEXT = (
    "accept acquire activate add adjust aggregate allocate append apply archive assert assign"
    " attach authenticate authorize bind build cache calculate call cancel capture check clean"
    " clear clone close collect combine commit compare compile compress compute configure connect"
    " convert copy count create crop decode decorate decrypt deduplicate delete deliver"
    " deserialize destroy detach detect disable discard dispatch download drain drop dump emit"
    " enable encode encrypt ensure enqueue evaluate execute expand export extend extract fetch"
    " filter find finish flatten flush format generate group guess hash import increment index"
    " init initialize insert install invalidate invoke iterate join keep kill launch list load"
    " lock log login logout lookup make map mark match measure merge migrate mount move normalise"
    " normalize notify open pack paginate parse patch pause persist ping place poll pop post"
    " prepare print process publish pull purge push put query queue read rebuild receive record"
    " redact refresh register reject release reload remove rename render reorder replace report"
    " request reset resize resolve restore resume retry return reverse revoke rotate round route"
    " run sanitize save scale scan schedule search select send serialize serve set setup shard"
    " show shuffle shutdown sign skip sleep slice sort split start stop store stream strip submit"
    " subscribe sum swap sync tag take tokenize toggle track transform translate trim truncate"
    " try unlock unpack unregister unsubscribe update upgrade upload upsert use validate verify"
    " visit wait walk warn watch wrap write yield zip"
)
VERBS = frozenset(_VERBS_TEXT.split())
# What the skeleton writes where only the author knows the meaning: visibly a to-do, never a
# guess. No colon: in a Google "Returns:" section "TODO: x" would read as a type named TODO.
RETURN_PLACEHOLDER = "TODO - describe the return value."
YIELD_PLACEHOLDER = "TODO - describe the values yielded."
# A parameter's name is not its meaning: "preferred: The preferred." reads as documentation and
# says nothing, so every named parameter gets a visible to-do (its type and default are facts).
PARAM_PLACEHOLDER = "TODO - describe."
_QUESTION_VERBS = frozenset({"is", "has", "can", "should", "needs", "was", "will", "does"})
_DUNDERS = {
    "__init__": "Initialize the instance.",
    "__post_init__": "Finish initializing the instance.",
    "__repr__": "Return the developer representation.",
    "__str__": "Return the readable representation.",
    "__eq__": "Return whether both objects are equal.",
    "__hash__": "Return the hash of the instance.",
    "__len__": "Return the number of items.",
    "__iter__": "Iterate over the items.",
    "__call__": "Call the instance.",
    "__enter__": "Enter the context.",
    "__exit__": "Exit the context.",
}


class Param(FrozenRecord):
    """One documented parameter."""

    __slots__ = ("name", "type", "default")
    name: str
    type: str | None
    default: str | None

    def __init__(self, name: str, type: str | None = None, default: str | None = None) -> None:
        setfield(self, "name", name)
        setfield(self, "type", type)
        setfield(self, "default", default)


def split_words(name: str) -> list[str]:
    """Words of an identifier: parseHTTPRequest -> parse, HTTP, request; snake and kebab too."""
    words: list[str] = []
    for chunk in re.split(r"[_\-$.]+", name):
        for word in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", chunk):
            words.append(word if len(word) > 1 and word.isupper() else word.lower())
    return words


def third_person(verb: str) -> str:
    """parse -> parses, fetch -> fetches, copy -> copies."""
    if verb == "get":
        return "returns"
    if re.search(r"(s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def _article(words: list[str]) -> str:
    return "an" if words and words[0][:1].lower() in "aeio" else "a"


def summary(target: Target, *, returns_value: bool, voice: str = "imperative") -> str:
    """A one-line summary from the target's name; voice is imperative, third or go."""
    name = target.name
    words = split_words(name)
    if not words:  # "_" or similar: nothing to build a sentence from but the name itself
        return f"The `{name}` {target.kind}."
    if target.kind == "module":
        return f"The {' '.join(words)} module."
    if target.kind == "class":
        phrase = " ".join(words)
        if voice == "go":
            return f"{name} is {_article(words)} {phrase}."
        return f"{_article(words).capitalize()} {phrase}."
    if name in _DUNDERS and voice == "imperative":
        return _DUNDERS[name]
    verb, rest = words[0], " ".join(words[1:])
    if verb in _QUESTION_VERBS:
        head = "return" if voice == "imperative" else "report"  # Go: "reports whether"
        sentence = f"{head} whether it {verb} {rest}".rstrip()
    elif verb == "get":
        sentence = f"return {rest or 'the value'}"
    elif verb == "to" and rest:
        sentence = f"convert to {rest}"
    elif verb == "from" and rest:
        sentence = f"build from {rest}"
    elif verb in ("on", "handle") and rest:
        sentence = f"handle {rest}"
    elif verb == "main" and not rest:
        sentence = "run the program"
    elif verb in VERBS:
        sentence = f"{verb} {rest}".rstrip()
    elif returns_value:
        sentence = f"return the {' '.join(words)}"
    else:
        sentence = f"handle {' '.join(words)}"
    if voice != "imperative":
        head, _, tail = sentence.partition(" ")
        sentence = f"{third_person(head)} {tail}".rstrip()
    if voice == "go":
        return f"{name} {sentence}."
    return sentence[0].upper() + sentence[1:] + "."


def param_text(param: Param) -> str:
    """A parameter's description: what its kind says (`*args`, `**kwargs`), else a to-do."""
    if param.name.startswith("**"):
        return "Extra keyword arguments."
    if param.name.startswith("*") or param.name.startswith("..."):
        return "Extra positional arguments."
    return PARAM_PLACEHOLDER


def returns_text(target: Target, *, yields: bool = False) -> str:
    """What the return value is, when the name says it (get_user -> The user), else a placeholder.

    Only a getter (`get_x`), a question (`is_x`, `has_x`) or a noun (`checksum`) names its
    value. A verb does not: `verify_password` returns two booleans, not "the password", so it
    gets RETURN_PLACEHOLDER, which reads as the to-do it is.
    """
    words = split_words(target.name)
    if words and words[0] in _QUESTION_VERBS:
        return f"Whether it {' '.join(words)}."
    if len(words) > 1 and words[0] == "get":
        return f"The {' '.join(words[1:])}."
    if not words or words[0] in VERBS or words[0] == "get":
        return YIELD_PLACEHOLDER if yields else RETURN_PLACEHOLDER
    return f"The {' '.join(words)}."
