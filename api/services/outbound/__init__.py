"""What leaves the app after a change: the change feed, webhooks and the edge's purges."""
