"""Alert engine: one open alert per subject and type, its lifecycle, and notifications."""
