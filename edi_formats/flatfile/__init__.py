"""The teledespacho flat file: a record-per-line text format for DUA and O/E (docs/formats.md).

``layout`` holds the record definitions as data, ``reader`` parses, ``writer`` renders, and
``envelope`` reads the first record, which needs no model (the mail extractor uses it).
"""
