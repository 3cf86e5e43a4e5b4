"""What the tests and the benchmarks start: servers, databases, clients and receivers."""
