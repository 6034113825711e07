"""The relay process, one per session: confines, forks the cell process, moves its bytes."""
