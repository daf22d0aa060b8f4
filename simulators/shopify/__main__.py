"""`python -m simulators.shopify --port 8091 ...`: run the Shopify simulator in the foreground."""

import sys

from simulators.shopify.cli import main

if __name__ == "__main__":
    sys.exit(main())
