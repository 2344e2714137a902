"""What an operator sees of a running dxbot: Prometheus metrics, logs, health and readiness (issue 16)."""
