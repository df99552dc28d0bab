"""Sources of contract events: files of several formats, later HTTP and NATS."""
