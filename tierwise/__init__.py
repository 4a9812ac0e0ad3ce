"""tierwise: AI code actions routed to the cheapest model tier that does them well."""

__version__ = "0.1.0"
