"""The pure core: model, commands, events and the decider. Nothing here does I/O or reads a clock."""
