"""The cell process, one per session: runs learner code, confined; pid 1 of its pid namespace."""
