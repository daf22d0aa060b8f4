"""`python -m bench.orders_realistic`: the same as `python -m bench.orders_realistic.run`."""

import sys

from bench.orders_realistic.run import main

sys.exit(main())
