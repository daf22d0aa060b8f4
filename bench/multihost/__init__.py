"""Several machines, one NetSuite budget: the fleet as several hosts (network namespaces) on this machine."""
