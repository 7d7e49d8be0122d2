"""An embedded stand-in for the UbiOps v2.1 API: the demo's source and the tests' backend."""
