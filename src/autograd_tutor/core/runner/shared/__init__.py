"""Pure standard-library modules that more than one process of the runner uses."""
