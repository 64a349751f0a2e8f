"""Documents: PDF rendering shared by reports, invoices and certificates."""
