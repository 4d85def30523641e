"""The model folder: checking, loading, downloading and naming a ContentV model; the tiny demo model."""
