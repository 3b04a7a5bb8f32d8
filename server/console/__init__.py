"""The operator's console: pages for administrators that explain what the service did."""
