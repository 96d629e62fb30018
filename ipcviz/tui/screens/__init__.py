"""The TUI's screens. A screen asks the App to go elsewhere with a message
(``ipcviz/tui/messages.py``); the App owns navigation."""
