"""Hostile input for the tests: forged worker frames (frames.py), strings for terminals (texts.py)."""
