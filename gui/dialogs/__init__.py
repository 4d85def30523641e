"""Dialogs: errors and confirmations, the model download, the export."""
