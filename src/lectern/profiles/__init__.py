"""The learner profile and learning preferences: each reader only ever sees and changes their own."""
