"""Secure defaults and builders shared by every pattern: the only place a default lives."""
