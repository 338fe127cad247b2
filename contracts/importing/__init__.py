"""Importing PhilGEPS "Bid Notice and Award Details" exports (the CSV files PhilGEPS publishes).

columns: which CSV column is which field, by header name; values: reading one cell and its
quirks; loader: the streaming, batched upsert that `manage.py import_contracts` runs.
"""
