"""End-to-end: the reference stacks deployed to the MiniStack emulator (``make e2e``)."""
