"""Shipped router models: `router-VERSION.json`, read by `routing.router.load_model`."""
