"""LLM providers: the model registry (registry.py) and one client for every provider (client.py)."""
