"""The only code that speaks HTTP: client, retries, rate limit, paginators and streams."""
