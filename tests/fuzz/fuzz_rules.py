"""Coverage-guided fuzzing of the rules loaders with atheris (libFuzzer), beside the Hypothesis fuzz test.

Every input (bytes, and the same bytes as text) goes to ``rules_from_json`` and ``rules_from_toml``; the
only exception allowed is ``InvalidRules``, and a document that loads must be written back the same.
atheris is not a dependency (it has no wheels for every Python convostate supports): install it and run

    pip install atheris
    python tests/fuzz/fuzz_rules.py -runs=100000 tests/fuzz/corpus

(the corpus holds valid documents to start from; libFuzzer adds what it finds to the first folder named).

``tests/test_rules_fuzz.py`` runs it briefly when atheris is installed, and skips it otherwise.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

with atheris.instrument_imports():
    from convostate.rules import InvalidRules, rules_from_json, rules_from_toml, rules_to_json


def test_one_input(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    for load in (rules_from_json, rules_from_toml):
        for document in (data, text):
            try:
                rules = load(document)
            except InvalidRules:
                continue
            if rules_from_json(rules_to_json(rules)) != rules:
                raise AssertionError(f"{document!r} did not load back the same")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
