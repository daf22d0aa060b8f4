"""Wiring to the outside world: the process's NetSuite and Shopify clients built from settings, its Redis
connection, the fleet counters, and what a failure of any of them means for a task. No use case lives here."""
