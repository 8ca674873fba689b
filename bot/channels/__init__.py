"""Channel adapters: platform payload ⇄ neutral model. The only home of platform libraries."""
