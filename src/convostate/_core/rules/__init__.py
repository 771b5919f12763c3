"""The rules engine: the seed's behaviours and a host's own, as data a settings page can edit."""
