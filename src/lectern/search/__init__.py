"""Keyword search over the ingested book: OR-ed query terms ranked with BM25, with marked snippets."""
