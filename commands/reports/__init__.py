"""Figures for the partnership, depersonalised: counts by agency, outcome category and month (no target, person or
free text), as CSV, HTML, PDF and a PNG chart; `oneday report` and `/oneday report`."""
