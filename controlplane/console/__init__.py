"""Serves the web console: the Vite-built single-page app from frontend/dist."""
