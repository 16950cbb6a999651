"""Energy and comfort analytics of public buildings."""
