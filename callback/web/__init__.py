"""The web layer: pages, the REST API and (later) telephony webhooks."""
