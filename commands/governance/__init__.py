"""Information governance for the Data Protection Officer: who acted (a named actor for every CLI operation), the
processing log read back and exported, and subject search and export. Every export is itself a disclosure."""
