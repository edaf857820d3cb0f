"""Read-side reports over the tables: batch progress and results, quality, costs, budgets,
shadow tests, and the figures of the report page."""
