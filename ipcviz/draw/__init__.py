"""Drawing the model as rich Text and segments: no Textual, no kernel. The TUI
(``ipcviz/tui``), the mechanisms' views and diagrams, and the SVG/HTML exports use it."""
