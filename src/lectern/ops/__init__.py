"""Operations on a running Lectern: `lectern monitor` (traffic and deployments) and `lectern doctor` (diagnosis)."""
