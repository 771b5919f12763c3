"""Contact analytics and reports, worked out with no I/O from each change's events (docs/analytics.md)."""
