"""Information governance (issue 16): for the Data Protection Officer, who acted (a named actor for every CLI
operation), the processing log read back and exported, subject search and export (every export is itself a
disclosure); retention and review; onward disclosure with the chair's approval."""
