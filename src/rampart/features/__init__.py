"""Features declared once as data, computed online per event and offline over history."""
