"""Courses: content rules, drip planning, quizzes and the Enrollment workflow's contract (pure, no I/O)."""
