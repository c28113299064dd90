"""Applications, reviews, routing, deadlines, licenses, notifications and the audit trail."""
