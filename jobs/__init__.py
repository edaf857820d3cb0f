"""What a job is: the model a producer submits, its strict JSON, and how files become jobs."""
