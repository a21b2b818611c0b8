"""Onrust-assistent: cited Dutch answers and OMO escalation for municipal officials, on Matrix and Teams."""

__version__ = "0.1.0"
