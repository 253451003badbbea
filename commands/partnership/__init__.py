"""The partnership itself: the partnership file (read, validate, load, export), targets imported from a
spreadsheet, and a depersonalised summary."""
