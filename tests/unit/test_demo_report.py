"""The demo's report (devtools/demo): a check mark per section, a failed step failing the run without ending the
story, and an order mix that shows every shape even when the run is small."""

from __future__ import annotations

import random

import pytest

from devtools.demo import orders, run
from devtools.demo.report import Section, exit_code, render, section


def test_a_section_passes_only_without_problems_and_a_skipped_one_fails_nothing():
    good = section("orders", ["8 orders"], [])
    bad = section("inventory", ["3 levels"], ["SKU-1 at 71001: Shopify 4, NetSuite 5"])
    skipped = Section("payouts → deposits", None, ["not built yet, issue 13"])
    assert (good.mark, bad.mark, skipped.mark) == ("✓", "✗", "–")
    assert exit_code([good, skipped]) == 0
    assert exit_code([good, bad, skipped]) == 1
    text = render([good, bad, skipped])
    assert "✓ orders\n    8 orders\n✗ inventory\n    3 levels\n    ! SKU-1 at 71001: Shopify 4, NetSuite 5" in text
    assert text.endswith("demo: FAILED (1 of 3 sections: inventory)")
    assert render([good, skipped]).endswith("demo: OK, 1 sections passed, 1 skipped")


def test_long_figures_wrap_under_the_section():
    text = render([section("orders", ["word " * 40], [])])
    body = text.splitlines()[3:-1]  # after the blank line, the heading and the section title
    assert len(body) > 1 and all(len(line) <= 116 for line in body)
    assert body[0].startswith("    word") and body[1].startswith("      word")


def test_a_commands_output_is_shown_as_printed_after_the_figures():
    table = ["PAYOUT      STATE      REASON", "8100000055  deposited  " + "every transaction matched " * 4]
    done = section("payouts", ["shopsync payouts list:"], [])
    done.block = table
    lines = render([done]).splitlines()
    at = lines.index("    shopsync payouts list:")
    assert lines[at + 1 : at + 3] == [f"      {line}".rstrip() for line in table]  # not wrapped, columns kept


def test_a_step_that_raises_is_a_failed_section_and_the_next_steps_still_run(monkeypatch):
    ran = []

    def broken(_demo):
        ran.append("broken")
        raise RuntimeError("the simulator answered 500")

    def fine(_demo):
        ran.append("fine")
        return section("fine", ["all there"], [])

    monkeypatch.setattr(run, "STEPS", [("broken", broken), ("fine", fine)])
    sections = run.run_steps(demo=None)
    assert ran == ["broken", "fine"]
    assert [(s.title, s.passed) for s in sections] == [("broken", False), ("fine", True)]
    assert sections[0].problems == ["RuntimeError: the simulator answered 500"]
    assert exit_code(sections) == 1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("count", [4, 6])
def test_even_a_small_mix_has_every_shape(seed, count):
    planned = orders.mixed_orders(random.Random(seed), count)
    assert len(planned) == count
    assert set().union(*(orders.shapes_of(p) for p in planned)) == set(orders.SHAPES)
    assert len({p.order["id"] for p in planned}) == count
