"""The Enrollment workflow's side effects: the enrolment's rows, messages and certificates."""
