"""How a job becomes the messages a model reads."""
