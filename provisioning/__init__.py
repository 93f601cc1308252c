"""Provisioners: make the workplan true, one kind of state each, observe → plan → apply → verify."""
