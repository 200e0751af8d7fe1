"""The working-day calendar over HTTP: public reads, administrators' overrides."""
