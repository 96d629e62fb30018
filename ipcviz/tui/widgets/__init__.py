"""The TUI's widgets: the session's panels and the diagram view."""
