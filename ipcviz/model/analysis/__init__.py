"""Analyses of the model: who waits for whom (deadlock), which updates were lost (races)."""
