"""Catalog sections generated from the synthesized templates (``make catalog``)."""
