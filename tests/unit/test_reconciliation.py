from app.domain.reconciliation import (
    CORRECT,
    MISSING_IN_NETSUITE,
    MISSING_IN_SHOPIFY,
    WITHIN,
    Diff,
    diff_inventory,
    spike,
    tolerance_by_class,
)


def test_every_kind_of_drift_gets_its_action():
    netsuite = {("HIGH", 1): 10, ("LOW", 1): 10, ("FAST", 1): 10, ("NS-ONLY", 1): 4, ("SAME", 1): 7}
    shopify = {("HIGH", 1): 14, ("LOW", 1): 9, ("FAST", 1): 12, ("SH-ONLY", 1): 3, ("SAME", 1): 7}
    tol = tolerance_by_class({"FAST": "high"}, {}, high=2, low=0, high_velocity=1.0)
    diffs = {d.sku: d for d in diff_inventory(netsuite, shopify, tol)}
    assert diffs["HIGH"] == Diff("HIGH", 1, 10, 14, 0, CORRECT)  # Shopify high
    assert diffs["LOW"] == Diff("LOW", 1, 10, 9, 0, CORRECT)  # Shopify low
    assert diffs["FAST"].action == WITHIN and diffs["FAST"].tolerance == 2
    assert diffs["NS-ONLY"].action == MISSING_IN_SHOPIFY
    assert diffs["SH-ONLY"].action == MISSING_IN_NETSUITE
    assert "SAME" not in diffs


def test_velocity_decides_the_class_unless_configured():
    tol = tolerance_by_class(
        {"PINNED": "low"}, {"HOT": 3.0, "PINNED": 9.0, "COLD": 0.1}, high=2, low=0, high_velocity=1.0
    )
    assert (tol("HOT"), tol("PINNED"), tol("COLD"), tol("UNSEEN")) == (2, 0, 0, 0)


def test_spike_against_the_median_and_the_absolute_threshold():
    assert spike(12, [2, 3, 2, 4], factor=5, absolute=1000) is None
    assert "5x the median" in spike(30, [2, 3, 2, 4], factor=5, absolute=1000)
    assert "absolute threshold" in spike(1001, [], factor=5, absolute=1000)
    assert spike(50, [1, 2], factor=5, absolute=1000) is None  # too little history to judge


def test_a_bundle_is_as_available_as_its_scarcest_component():
    import pytest

    from app.domain.reconciliation import bundle_levels, parse_bundles

    bundles = parse_bundles("GIFT-BOX=MUG:1+TEA:2; DUO=MUG:2")
    assert bundles == {"GIFT-BOX": {"MUG": 1, "TEA": 2}, "DUO": {"MUG": 2}}
    netsuite = {("MUG", 1): 5, ("TEA", 1): 7, ("MUG", 2): 1}
    levels = bundle_levels(bundles, netsuite, [1, 2])
    assert levels == {("GIFT-BOX", 1): 3, ("GIFT-BOX", 2): 0, ("DUO", 1): 2, ("DUO", 2): 0}
    with pytest.raises(ValueError, match="SKU:QUANTITY"):
        parse_bundles("BOX=MUG")
