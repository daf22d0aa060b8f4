"""`shopsync-dev demo`: the whole service, end to end, against both simulators, told as a story in steps.

Starts the real processes (both simulators, gunicorn, the Procfile's workers, beat and Flower: stack.py), then
runs each step with its progress bar, and prints a report: one section per step, with its check mark and its
figures, every figure read from the simulators themselves (NetSuite's own records and totals, Shopify's levels),
never from our database. Exit 1 when a section fails. It stops everything it started, unless --keep: then it
prints where to look (the console and its token, Flower and its credentials, /metrics) and runs until Ctrl-C.

Steps, one module each: orders.py (a realistic mix, duplicated and shuffled, exactly once), lifecycle.py (a split
shipment, a partial refund, a cancellation), dead_letter.py (an unknown SKU dead-lettered, fixed, requeued),
inventory.py (a NetSuite stock change pushed to Shopify), reconcile.py (the nightly reconciliation: drift corrected,
a lost webhook healed, the drift plot), payouts.py (the money story: captures, a gift card, refunds, a dispute and a
reserve → Shopify's payouts → NetSuite bank deposits equal to their nets; the stack runs with PAYMENT_MODEL=deposit).
"""

from __future__ import annotations

import signal
import time
import traceback
from collections.abc import Callable

import click

from bench.common import raise_exit
from devtools.demo import dead_letter, inventory, lifecycle, orders, payouts, reconcile
from devtools.demo.report import Section, exit_code, render
from devtools.demo.stack import Demo, DemoOptions, keep_running, prepare, print_urls, start

STEPS: list[tuple[str, Callable[[Demo], Section]]] = [
    (orders.TITLE, orders.run),
    (lifecycle.TITLE, lifecycle.run),
    (dead_letter.TITLE, dead_letter.run),
    (inventory.TITLE, inventory.run),
    (reconcile.TITLE, reconcile.run),
    (payouts.TITLE, payouts.run),
]


def run_steps(demo: Demo) -> list[Section]:
    """Every step in turn; a step that raises is a failed section with the reason, and the story goes on."""
    sections = []
    for number, (title, step) in enumerate(STEPS, start=1):
        click.echo(f"\n{number}/{len(STEPS)} {title}")
        started = time.monotonic()
        try:
            sections.append(step(demo))
        except Exception as exc:  # noqa: BLE001 - reported as the section's failure, with the logs to read
            click.echo(traceback.format_exc(), err=True)
            sections.append(Section(title, False, [], [f"{type(exc).__name__}: {exc}"[:600]]))
        sections[-1].seconds = time.monotonic() - started
        click.echo(f"{sections[-1].mark} {title}")
    return sections


def run_demo(options: DemoOptions) -> int:
    signal.signal(signal.SIGTERM, raise_exit)  # a stop from outside runs the `finally` below too
    # Ctrl-C stops everything, even when started where SIGINT is ignored (a background job of a shell without job
    # control: Python then installs no KeyboardInterrupt handler).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    demo = prepare(options)
    sections: list[Section] = []
    try:
        try:
            start(demo)
        except (RuntimeError, TimeoutError) as exc:
            click.echo(f"demo: the stack did not start: {exc}", err=True)
            return 2
        sections = run_steps(demo)
        click.echo(render(sections))
        if options.keep:
            print_urls(demo)
            if not keep_running(demo):
                return 1
        return exit_code(sections)
    except KeyboardInterrupt:
        return exit_code(sections) if sections else 130
    finally:
        demo.stack.stop_all()
        click.echo("stopped every process the demo started")
