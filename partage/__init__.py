"""The application: the composition root that builds every service once, and the command line.
It is the only package that sees both ``bot`` (the framework) and every feature in ``cogs``."""
