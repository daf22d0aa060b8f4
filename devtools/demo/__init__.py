"""`shopsync-dev demo`: the whole service, end to end, against both simulators (devtools/demo/run.py).

Light on purpose: the benchmarks import `service_items` from here, and the demo's steps import the benchmarks'
builders, so nothing heavier is imported at package level.
"""

from devtools.demo.seed import service_items

__all__ = ["service_items"]
