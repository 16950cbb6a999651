"""The relational state store: registry models, migrations, and registry import/export."""
