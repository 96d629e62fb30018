"""Built-in scenarios. Installed as the package ``ipcviz.scenarios``; each file is one scenario."""
