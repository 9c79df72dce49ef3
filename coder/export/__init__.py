"""Exports: tables in every format, charts, quotes, the report folder and coded data for other tools.

formats.py (md, csv, xlsx, html, latex, json), quote_formats.py (quotes as md, html, json),
charts.py (bar charts), folder.py (the report folder), coded_data.py (coded answers to CSV and XLSX).
"""
