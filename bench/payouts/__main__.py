import sys

from bench.payouts.run import main

sys.exit(main())
