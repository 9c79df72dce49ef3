"""What a report needs, computed: percentage tables, representative quotes, anonymised.

tables.py (counts, bases, folds, ties, nets, crosstabs, waves), quotes.py (representative
quotes), anonymise.py (names, councils and contact details redacted). Rendering is in export/.
"""
