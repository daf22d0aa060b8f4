"""`python -m bench.multihost`: see bench/multihost/run.py."""

import sys

from bench.multihost.run import main

sys.exit(main())
