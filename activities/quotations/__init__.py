"""The Quotation workflow's activities: lifecycle changes, messages and the PDF."""
