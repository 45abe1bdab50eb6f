"""Customs policy the answering step applies with the store's facts, as pure functions.

The rules in ``validators.rules`` judge one declaration; the policy here decides what the
gateway does once it is judged: its number (``numbering``), its control channel within the
office's monthly red share (``channels``), what the answer on file for its reference means
(``duplicates``), and which facts of earlier declarations it needs and leaves behind
(``dispatch``). Facts in, decisions out: no store, no clock. ``gateway.pipeline`` reads the
facts, calls these and writes what they decide.
"""
