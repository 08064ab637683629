"""Developer tools that read the catalog (not deployed)."""
