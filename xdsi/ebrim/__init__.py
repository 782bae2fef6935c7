"""The only place that knows ebRIM 3.0: model <-> XML for XDS metadata, queries and responses."""
