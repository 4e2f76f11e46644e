"""Chat with the book: grounded, cited answers (written by a language model, or quoted without one)."""
