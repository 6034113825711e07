"""The warm host process: imports torch once, forks one relay per session."""
