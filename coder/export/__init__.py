"""Exports: tables in every format, charts, the report folder, codebooks and coded data for other tools.

table_formats.py (md, csv, xlsx, html, latex, json), charts.py (bar charts),
report.py (the report folder), refi_qda.py (REFI-QDA .qdc codebooks),
coded_data.py (coded answers to CSV and XLSX).
"""
