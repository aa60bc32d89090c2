"""Reads shared by the supervision pages and exports, one module per area (see ``services``)."""
