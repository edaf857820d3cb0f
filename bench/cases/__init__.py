"""Validation cases from outside the project: real agreements and an independent generator.

Each case is one JSON object a line: `id`, `doc` (the document it comes from, for splits),
`task`, `document`, `schema`, `output` (a model's answer), `should_pass`, `why`.
Nothing here imports the validator: the cases describe the world, not what the checks look for.
"""
