"""The app's screens: lesson list, lesson view, help overlay."""
