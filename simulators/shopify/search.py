"""Shopify's search syntax for the `query:` argument of `orders`, over REST-shaped orders.

Supported: `field:value` terms with the comparators `:>`, `:>=`, `:<`, `:<=` on dates and ids, values quoted
with single or double quotes, implicit or explicit AND, OR, NOT / leading `-`, and parentheses. Fields:
`created_at`, `updated_at`, `processed_at`, `id`, `name`, `email`, `financial_status`, `fulfillment_status`,
`status` (open | closed | cancelled | any), `tag`; a bare word matches name, email or order number. An unknown
field is ignored with a warning (Shopify answers the same way, reporting it under `extensions.search`).

Dates without a time mean midnight UTC: Shopify uses the shop's time zone, and the simulated shop's is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from simulators.shopify.store import OrderEntry, parse_time

Predicate = Callable[[OrderEntry], bool]

_TOKEN = re.compile(r"""\s*(\(|\)|(?:[^\s()"']|"[^"]*"|'[^']*')+)""")
_COMPARATORS = (">=", "<=", ">", "<")
DATE_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "processed_at": "processed_at"}
KNOWN_FIELDS = frozenset(
    {*DATE_FIELDS, "id", "name", "email", "financial_status", "fulfillment_status", "status", "tag", "tags"}
)


class SearchSyntaxError(ValueError):
    pass


@dataclass
class ParsedSearch:
    predicate: Predicate
    warnings: list[dict[str, str]] = field(default_factory=list)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.replace('"', "").replace("'", "") if ("'" in value or '"' in value) else value


def _words(text: str) -> list[str]:
    words = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SearchSyntaxError(f"cannot parse search query near {text[position:]!r}")
        words.append(match.group(1))
        position = match.end()
    return words


def parse_search(text: str | None) -> ParsedSearch:
    """A predicate over orders for a Shopify search string (None or blank: every order)."""
    warnings: list[dict[str, str]] = []
    if text is None or not text.strip():
        return ParsedSearch(lambda _entry: True, warnings)
    return _run(_Parser(_words(text), warnings))


def _run(parser: _Parser) -> ParsedSearch:
    predicate = parser.expression()
    if parser.position != len(parser.words):
        raise SearchSyntaxError(f"unexpected {parser.words[parser.position]!r} in search query")
    return ParsedSearch(predicate, parser.warnings)


# A search field of another resource: (comparator, unquoted value, warnings) -> predicate over that resource.
TermFactory = Callable[[str, str, list[dict[str, str]]], Callable[[Any], bool]]


def parse_field_search(
    text: str | None, fields: dict[str, TermFactory], free_text: Callable[[str], Callable[[Any], bool]]
) -> ParsedSearch:
    """The same syntax (AND, OR, NOT, parentheses, comparators) over another resource's fields."""
    warnings: list[dict[str, str]] = []
    if text is None or not text.strip():
        return ParsedSearch(lambda _entry: True, warnings)
    return _run(_FieldParser(_words(text), warnings, fields, free_text))


class _Parser:
    def __init__(self, words: list[str], warnings: list[dict[str, str]]) -> None:
        self.words = words
        self.position = 0
        self.warnings = warnings

    def _peek(self) -> str | None:
        return self.words[self.position] if self.position < len(self.words) else None

    def expression(self) -> Predicate:
        alternatives = [self._conjunction()]
        while self._peek() == "OR":
            self.position += 1
            alternatives.append(self._conjunction())
        if len(alternatives) == 1:
            return alternatives[0]
        return lambda entry: any(p(entry) for p in alternatives)

    def _conjunction(self) -> Predicate:
        parts = [self._unary()]
        while (word := self._peek()) is not None and word not in ("OR", ")"):
            if word == "AND":
                self.position += 1
                continue
            parts.append(self._unary())
        if len(parts) == 1:
            return parts[0]
        return lambda entry: all(p(entry) for p in parts)

    def _unary(self) -> Predicate:
        word = self._peek()
        if word is None:
            raise SearchSyntaxError("search query ends early")
        if word == "NOT":
            self.position += 1
            inner = self._unary()
            return lambda entry: not inner(entry)
        if word == "(":
            self.position += 1
            inner = self.expression()
            if self._peek() != ")":
                raise SearchSyntaxError("unbalanced parentheses in search query")
            self.position += 1
            return inner
        if word == ")":
            raise SearchSyntaxError("unbalanced parentheses in search query")
        self.position += 1
        if word.startswith("-") and len(word) > 1:
            inner = self._term(word[1:])
            return lambda entry: not inner(entry)
        return self._term(word)

    def _term(self, word: str) -> Predicate:
        name, colon, raw = word.partition(":")
        if not colon:
            return _free_text(_unquote(word))
        name = name.lower()
        comparator = ""
        for candidate in _COMPARATORS:
            if raw.startswith(candidate):
                comparator, raw = candidate, raw[len(candidate) :]
                break
        value = _unquote(raw)
        if name not in KNOWN_FIELDS:
            self.warnings.append({"field": name, "message": "Invalid search field for this query."})
            return lambda _entry: True
        if name in DATE_FIELDS:
            return _date_term(name, comparator, value, self.warnings)
        if name == "id":
            return _id_term(comparator, value)
        return _text_term(name, value)


def _split_term(word: str) -> tuple[str, str, str] | None:
    """(lower-case field, comparator, unquoted value) of `field:value`; None for a bare word."""
    name, colon, raw = word.partition(":")
    if not colon:
        return None
    comparator = ""
    for candidate in _COMPARATORS:
        if raw.startswith(candidate):
            comparator, raw = candidate, raw[len(candidate) :]
            break
    return name.lower(), comparator, _unquote(raw)


class _FieldParser(_Parser):
    def __init__(
        self,
        words: list[str],
        warnings: list[dict[str, str]],
        fields: dict[str, TermFactory],
        free_text: Callable[[str], Callable[[Any], bool]],
    ) -> None:
        super().__init__(words, warnings)
        self.fields = fields
        self.free_text = free_text

    def _term(self, word: str) -> Predicate:
        parts = _split_term(word)
        if parts is None:
            return self.free_text(_unquote(word))
        name, comparator, value = parts
        factory = self.fields.get(name)
        if factory is None:
            self.warnings.append({"field": name, "message": "Invalid search field for this query."})
            return lambda _entry: True
        return factory(comparator, value, self.warnings)


def date_term(name: str, stamp: Callable[[Any], datetime | None]) -> TermFactory:
    """A date field for parse_field_search, with the orders' date rules; `stamp` reads the resource's date."""

    def factory(comparator: str, value: str, warnings: list[dict[str, str]]) -> Callable[[Any], bool]:
        return _date_predicate(name, comparator, value, warnings, stamp)

    return factory


def compare(left: Any, comparator: str, right: Any) -> bool:
    return _compare(left, comparator, right)


def _free_text(value: str) -> Predicate:
    needle = value.lower()
    if needle in ("", "*"):
        return lambda _entry: True

    def match(entry: OrderEntry) -> bool:
        order = entry.order
        haystacks = (order.get("name"), order.get("email"), order.get("order_number"), order.get("id"))
        return any(needle in str(h).lower() for h in haystacks if h is not None)

    return match


def _compare(left: Any, comparator: str, right: Any) -> bool:
    if comparator == ">":
        return left > right
    if comparator == ">=":
        return left >= right
    if comparator == "<":
        return left < right
    if comparator == "<=":
        return left <= right
    return left == right


def _date_term(name: str, comparator: str, value: str, warnings: list[dict[str, str]]) -> Predicate:
    def stamp(entry: OrderEntry) -> datetime | None:
        if name == "updated_at":
            return datetime.fromtimestamp(entry.updated_us / 1_000_000, UTC) if entry.updated_us else None
        if name == "processed_at" and entry.order.get("processed_at"):
            return parse_time(entry.order.get("processed_at"))
        return datetime.fromtimestamp(entry.created_us / 1_000_000, UTC) if entry.created_us else None

    return _date_predicate(name, comparator, value, warnings, stamp)


def _date_predicate(
    name: str,
    comparator: str,
    value: str,
    warnings: list[dict[str, str]],
    stamp: Callable[[Any], datetime | None],
) -> Predicate:
    date_only = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    bound = parse_time(value + "T00:00:00Z" if date_only else value)
    if bound is None:
        warnings.append({"field": name, "message": f"Invalid date {value!r}: the filter was ignored."})
        return lambda _entry: True

    if date_only and comparator == "":
        # `created_at:2026-11-01` means that whole day.
        end = bound + timedelta(days=1)
        return lambda entry: (at := stamp(entry)) is not None and bound <= at < end
    return lambda entry: (at := stamp(entry)) is not None and _compare(at, comparator, bound)


def _id_term(comparator: str, value: str) -> Predicate:
    raw = value.rsplit("/", 1)[-1]  # a gid works as well as the bare number
    if not raw.isdigit():
        raise SearchSyntaxError(f"id filter needs a number, got {value!r}")
    bound = int(raw)
    return lambda entry: _compare(entry.id, comparator, bound)


_FULFILLMENT_ALIASES = {
    "shipped": "fulfilled",
    "fulfilled": "fulfilled",
    "partial": "partial",
    "unshipped": None,
    "unfulfilled": None,
}


def _text_term(name: str, value: str) -> Predicate:
    wanted = value.lower()
    if name == "name":
        return lambda entry: str(entry.order.get("name") or "").lower().lstrip("#") == wanted.lstrip("#")
    if name == "email":
        return lambda entry: str(entry.order.get("email") or "").lower() == wanted
    if name == "financial_status":
        return lambda entry: wanted == "any" or str(entry.order.get("financial_status") or "").lower() == wanted
    if name == "fulfillment_status":
        if wanted == "any":
            return lambda _entry: True
        target = _FULFILLMENT_ALIASES.get(wanted, wanted)
        return lambda entry: (entry.order.get("fulfillment_status") or None) == target
    if name in ("tag", "tags"):

        def has_tag(entry: OrderEntry) -> bool:
            tags = entry.order.get("tags") or ""
            items = tags if isinstance(tags, list) else str(tags).split(",")
            return wanted in (str(t).strip().lower() for t in items)

        return has_tag
    # status
    if wanted == "any":
        return lambda _entry: True
    if wanted == "cancelled":
        return lambda entry: bool(entry.order.get("cancelled_at"))
    if wanted == "closed":
        return lambda entry: bool(entry.order.get("closed_at"))
    if wanted == "open":
        return lambda entry: not entry.order.get("closed_at") and not entry.order.get("cancelled_at")
    return lambda _entry: False


SORT_KEYS: dict[str, Callable[[OrderEntry], int]] = {
    "ID": lambda entry: entry.id,
    "CREATED_AT": lambda entry: entry.created_us,
    "UPDATED_AT": lambda entry: entry.updated_us,
}


def sort_entries(entries: list[OrderEntry], sort_key: str, reverse: bool) -> list[OrderEntry]:
    """Sorted by the key, ties broken by id, so that cursors are total."""
    key = SORT_KEYS[sort_key]
    return sorted(entries, key=lambda entry: (key(entry), entry.id), reverse=reverse)
