"""An action's whole lifecycle: record it (/action), change it, list it (/actions), close it with an outcome
(/outcome), the reminder buttons, and the feedback to the agencies that contributed."""
