"""Output renderers. Each imports rich (or nothing heavy) only when it is used."""
