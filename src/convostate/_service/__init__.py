"""The application service: the facade that hosts call, and what it returns."""
