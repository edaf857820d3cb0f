"""Which tier a job goes to: features, classifier, policy. Pure logic: no Celery, Redis or SQL."""
