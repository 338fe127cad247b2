"""Importing PhilGEPS "Bid Notice and Award Details" exports (the CSV files PhilGEPS publishes).

columns: which CSV column is which field, by header name; values: reading one cell and its
quirks; parsing: rows into contract records (no database); prepared: a record as the writer
is sent it (strings for COPY); pipeline: the parsing processes and the blocks they are fed;
writing: one batch into the database (COPY on PostgreSQL); loader: the streaming import
`manage.py import_contracts` runs.
"""
