"""The `tierline` command."""
