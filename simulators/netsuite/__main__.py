"""`python -m simulators.netsuite --port 8090 ...`: run the NetSuite simulator in the foreground."""

import sys

from simulators.netsuite.server import main

if __name__ == "__main__":
    sys.exit(main())
