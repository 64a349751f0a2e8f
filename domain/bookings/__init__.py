"""Bookings: slot arithmetic, policies, calendar invitations and the Consultation contracts. Pure."""
