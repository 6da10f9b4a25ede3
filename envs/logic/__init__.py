"""The logic family: one module per task; importing this package registers them."""
