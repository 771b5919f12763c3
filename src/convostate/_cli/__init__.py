"""The ``convostate`` command: an imperative shell over the public API, for trying the library, for cron and
for checking rules files before a deploy. One module per command group; ``app`` wires them."""
