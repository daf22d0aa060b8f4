"""save_view writes an order's lines with one cached statement per line count: a second save updates every column
a line carries (a bundle's components included), the state row is written before its lines, and an order with more
lines than one statement takes (PostgreSQL's parameter limit) is written in several."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from app.db import repositories
from app.db.session import session_scope
from app.domain.state_machine import Component, Line, OrderView


def test_a_second_save_updates_every_column_of_every_line(clean_db):
    order_id = 9_100_000_000_001
    first = OrderView(
        order_id=order_id,
        state="created",
        lines=(Line(1, "MUG", 2, Decimal("10.00")), Line(2, "BOX", 1, Decimal("45.00"))),
        total=Decimal("65.00"),
    )
    with session_scope() as session:
        state = repositories.new_order_state(session, order_id, "created")
        state.netsuite_internal_id = "900"
        repositories.save_view(session, state, first)  # the new state row is INSERTed before its lines

    later = replace(
        first,
        state="partially_fulfilled",
        lines=(
            replace(first.lines[0], fulfilled=2, netsuite_line=1),
            replace(first.lines[1], components=(Component("HAT", 2, 1), Component("SOCK", 3, 2))),
        ),
    )
    with session_scope() as session:
        state, _ = repositories.load_view(session, order_id)
        repositories.save_view(session, state, later)

    with session_scope() as session:
        state, view = repositories.load_view(session, order_id)
    assert state.version == 2 and view.state == "partially_fulfilled"
    assert view.lines == later.lines  # fulfilled, netsuite_line and components all updated on conflict


def test_the_lines_upsert_is_compiled_once_and_then_served_from_the_statement_cache(clean_db):
    # SQLAlchemy gives PostgreSQL's ON CONFLICT constructs no cache key: such a statement is compiled on every
    # execution. The lines' upsert must come from the compiled cache from its second execution on.
    from sqlalchemy import event
    from sqlalchemy.engine.interfaces import CacheStats

    from app.db.session import get_engine

    seen: list[str] = []

    def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.startswith("INSERT INTO order_lines"):
            seen.append(context.cache_hit)

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", after)
    try:
        for n in range(3):
            order_id = 9_100_000_000_100 + n
            view = OrderView(
                order_id=order_id, state="created", lines=(Line(1, "MUG", 1, Decimal("10.00")),), total=Decimal("10.00")
            )
            with session_scope() as session:
                state = repositories.new_order_state(session, order_id, "created")
                repositories.save_view(session, state, view)
    finally:
        event.remove(engine, "after_cursor_execute", after)
    assert len(seen) == 3
    assert seen[1:] == [CacheStats.CACHE_HIT, CacheStats.CACHE_HIT], seen


def test_an_order_with_more_lines_than_one_statement_takes_is_saved_whole(clean_db):
    order_id = 9_100_000_000_200
    lines = tuple(Line(n, f"SKU-{n}", 1 + n % 3, Decimal(n % 50) + Decimal("0.99")) for n in range(1, 1202))
    view = OrderView(order_id=order_id, state="created", lines=lines, total=sum(line.price for line in lines))
    with session_scope() as session:
        state = repositories.new_order_state(session, order_id, "created")
        state.netsuite_internal_id = "901"
        repositories.save_view(session, state, view)
    with session_scope() as session:
        _, loaded = repositories.load_view(session, order_id)
    assert loaded.lines == lines
