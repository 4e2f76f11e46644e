"""The ingested book, read back: its pages, and one page's passages regrouped into headed sections."""
