"""The table's registry: lists of cases and dwellings with filters, and where each one stands on
the table's next meeting date (blocking reasons or best candidates)."""
