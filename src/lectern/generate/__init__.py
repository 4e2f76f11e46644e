"""Content for each reader: a page personalized, translated, summarized, explained or turned into a quiz."""
