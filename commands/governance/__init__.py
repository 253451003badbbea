"""Information governance: retention and review, onward disclosure (issue 16)."""
