"""What a job is: its model, its tables, and how jobs are submitted and read back."""
