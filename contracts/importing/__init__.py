"""Importing PhilGEPS "Bid Notice and Award Details" exports (the CSV files PhilGEPS publishes).

columns: which CSV column is which field, by header name; values: reading one cell and its
quirks; parsing: rows into contract records (no database); writing: one batch into the
database (COPY on PostgreSQL); loader: the streaming import `manage.py import_contracts` runs.
"""
