"""The one Renderer: script → segments → audio → files, for episodes, bulletins and speech."""
