"""The DuckDB warehouse: migrations, bulk loading, and the queries the app and analysts use."""
