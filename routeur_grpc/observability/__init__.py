"""What can be watched from outside: Prometheus metrics and OpenTelemetry traces."""
