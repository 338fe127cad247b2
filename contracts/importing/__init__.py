"""Importing PhilGEPS "Bid Notice and Award Details" exports (SPEC section 3).

columns: which CSV column is which field, by header name; values: reading one cell and its
quirks; loader: the streaming, batched upsert that `manage.py import_contracts` runs.
"""
