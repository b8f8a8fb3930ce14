"""ptcekb: the linked-open-data knowledge base of French Pôles territoriaux de coopération économique."""

__version__ = "0.1.0"
