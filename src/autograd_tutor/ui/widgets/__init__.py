"""Widgets of the lesson view."""
