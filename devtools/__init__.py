"""Dev-only tools: simulators launcher, dev stack, demo, order factory. Production never imports this package."""
