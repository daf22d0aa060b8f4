"""tests.monitoring.metric_names: the metric names a PromQL expression reads, which the monitoring tests compare
with what /metrics exports. A name it missed would let a typo through; a label or function taken for a metric
would fail those tests for nothing."""

from __future__ import annotations

import pytest

from tests.monitoring import exported_series_names, metric_names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("shopsync_dlq_depth > 0", {"shopsync_dlq_depth"}),
        ('rate(a_total{reason="invalid_hmac", x=~"b|c"}[5m]) > 0', {"a_total"}),
        ("max by (queue, lane) (depth{queue='orders'}) > 1e3", {"depth"}),
        ("sum without (instance) (rate(x[5m:30s] offset 1h))", {"x"}),
        ("min by (system) (ok) == 0 unless on (system) group_left max by (system) (missing) == 1", {"ok", "missing"}),
        ('time() - max(ts{kind="inventory"}) > 26 * 3600', {"ts"}),
        ("histogram_quantile(0.95, max by (le) (rate(lat_bucket[$__rate_interval])))", {"lat_bucket"}),
        ('label_replace(up_like, "dst", "$1", "src", "(.*)") and bool_gauge', {"up_like", "bool_gauge"}),
        ('absent(shopsync_redis_up) or {__name__="by_name"}', {"shopsync_redis_up", "by_name"}),
        ("a:recorded:rate5m / ignoring (le) b and on() c", {"a:recorded:rate5m", "b", "c"}),
        ("vector(1) + scalar(s) * 0x1F", {"s"}),
    ],
)
def test_metric_names_are_the_selectors_only(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_exported_names_carry_each_type_suffix_even_before_a_sample() -> None:
    text = "\n".join(
        [
            "# TYPE c_total counter",
            "c_total 1.0",
            "# TYPE h histogram",
            'h_bucket{le="+Inf"} 1.0',
            "h_count 1.0",
            "h_sum 0.2",
            "# TYPE g gauge",  # a family with no sample yet (a label set still empty)
            "",
        ]
    )
    assert exported_series_names(text) == {"c_total", "h_bucket", "h_count", "h_sum", "g"}
