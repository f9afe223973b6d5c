"""`twin serve`: the corpus dashboard in the browser (see docs/dashboard.md)."""
