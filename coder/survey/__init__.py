"""The survey step: a spec says which columns of an export are the open questions, and the export is loaded.

spec.py (the survey spec), readers.py (CSV, XLSX, JSONL into a header and rows), load.py
(the rows into the database, in one transaction), init.py (a first spec from a raw export).
"""
