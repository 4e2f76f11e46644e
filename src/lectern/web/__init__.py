"""The HTTP edge: problem+json errors, request ids, logs, CORS and security headers."""
