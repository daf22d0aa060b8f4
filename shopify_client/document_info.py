"""What the client needs to know of a GraphQL document before sending it: which operation it runs, and whether
sending it twice is safe (a query, or a mutation under `@idempotent`), which decides whether a failure that may
have applied it is retried.
"""

from __future__ import annotations

import dataclasses
import functools

__all__ = ["DocumentInfo", "document_info"]


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentInfo:
    name: str | None
    repeatable: bool


_OPERATION_KEYWORDS = frozenset({"query", "mutation", "subscription"})


@functools.lru_cache(maxsize=256)
def document_info(query: str, operation_name: str | None) -> DocumentInfo:
    """The operation's name and whether it is safe to send twice (a query, or a mutation under @idempotent)."""
    top_level, directives = _scan(query)
    operations: list[tuple[str, str | None]] = []
    i = 0
    while i < len(top_level):
        word = top_level[i]
        if word == "fragment":
            i += 4  # fragment Name on Type
            continue
        if word in _OPERATION_KEYWORDS:
            following = top_level[i + 1] if i + 1 < len(top_level) else None
            if following is not None and following not in _OPERATION_KEYWORDS and following != "fragment":
                operations.append((word, following))
                i += 2
                continue
            operations.append((word, None))
        i += 1
    if not operations:
        operations = [("query", None)]  # the `{ ... }` shorthand
    chosen = [op for op in operations if operation_name is None or op[1] == operation_name]
    # When the name matches nothing, judge by the whole document so a mutation is never taken for a query.
    considered = chosen or operations
    mutation = any(kind == "mutation" for kind, _ in considered)
    name = chosen[0][1] if len(chosen) == 1 else operation_name
    return DocumentInfo(name=name, repeatable=not mutation or "idempotent" in directives)


def _scan(query: str) -> tuple[list[str], set[str]]:
    """Names at the document's top level (outside any braces/parentheses) and every directive used.

    A small lexer rather than a regex so that strings, comments and nested field names can't be mistaken for
    operation keywords.
    """
    top: list[str] = []
    directives: set[str] = set()
    depth = 0
    i = 0
    n = len(query)
    while i < n:
        ch = query[i]
        if ch == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == '"':
            if query.startswith('"""', i):
                end = query.find('"""', i + 3)
                i = n if end < 0 else end + 3
            else:
                i += 1
                while i < n and query[i] != '"':
                    i += 2 if query[i] == "\\" else 1
                i += 1
        elif ch in "{([":
            depth += 1
            i += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
            i += 1
        elif ch == "@" or ch == "$" or ch.isalpha() or ch == "_":
            start = i + 1 if ch in "@$" else i
            j = start
            while j < n and (query[j].isalnum() or query[j] == "_"):
                j += 1
            word = query[start:j]
            if ch == "@":
                directives.add(word)
            elif ch != "$" and depth == 0:
                top.append(word)
            i = max(j, i + 1)
        else:
            i += 1
    return top, directives
