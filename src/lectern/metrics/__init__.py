"""Request metrics: per-minute aggregates recorded in each instance, summed in Postgres, read as Prometheus text."""
