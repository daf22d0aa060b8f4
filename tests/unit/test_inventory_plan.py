from app.domain.inventory import NetSuiteLevel, Target, plan_push, push_key


def test_plan_maps_skus_and_locations_and_reports_what_it_cannot():
    levels = [
        NetSuiteLevel("A", "1", 5, "2026-11-23T01:00:00Z"),
        NetSuiteLevel("A", "1", 4, "2026-11-23T02:00:00Z"),  # a later change of the same level wins
        NetSuiteLevel("B", "2", -3, "2026-11-23T01:30:00Z"),  # oversold in NetSuite: Shopify shows 0
        NetSuiteLevel("GHOST", "1", 9, "2026-11-23T00:10:00Z"),
        NetSuiteLevel("A", "99", 7, "2026-11-23T00:20:00Z"),
    ]
    plan = plan_push(levels, {"A": 11, "B": 12}, {"1": 101, "2": 102})
    assert sorted(plan.targets, key=lambda t: t.sku) == [Target("A", 11, 101, 4), Target("B", 12, 102, 0)]
    assert plan.unmapped_skus == ("GHOST",) and plan.unmapped_locations == ("99",)
    assert plan.watermark == "2026-11-23T02:00:00Z"


def test_push_key_is_stable_for_the_same_push_and_differs_otherwise():
    a = [Target("A", 11, 101, 4), Target("B", 12, 102, 0)]
    assert push_key("c1", a) == push_key("c1", list(reversed(a)))
    assert push_key("c1", a) != push_key("c2", a)
    assert push_key("c1", a) != push_key("c1", [Target("A", 11, 101, 5), Target("B", 12, 102, 0)])
