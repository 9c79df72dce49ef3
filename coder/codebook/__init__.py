"""Codebooks: the themes a question is coded against.

model.py (Theme and Codebook, validated; YAML in and out), db.py (a codebook in the database:
add, rename, merge, nest, alias), qdc.py (REFI-QDA .qdc codebooks for other QDA tools).
"""
