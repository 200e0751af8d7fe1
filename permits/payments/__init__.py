"""Fees paid online: payments on the workflow engine, the gateways, their notices."""
