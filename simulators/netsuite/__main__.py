"""`python -m simulators.netsuite --port 8090 ...`: run the NetSuite simulator in the foreground."""

import sys

from simulators.netsuite.cli import main

if __name__ == "__main__":
    sys.exit(main())
