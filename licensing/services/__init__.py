"""Services: the only door to every change. Import from the concern's module."""
