"""`lectern doctor`: four checks (deployment, cold start, database, CORS), each pass, warn or fail with a fix."""
