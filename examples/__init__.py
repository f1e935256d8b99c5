"""Reference stacks: one per pattern, with realistic business code in ``handlers/``."""
