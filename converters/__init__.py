"""converters: read, validate, migrate and write AiiDA export archives.

The lower floor of the project: it never imports ``reportgen``.
"""
