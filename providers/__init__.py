"""One contract for "complete this request", adapters over the official SDKs, and the simulator."""
