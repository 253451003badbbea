"""The meeting day: plan it (preview and JSON), publish it (section spaces, pointers, itineraries), publish it
automatically on schedule, and show a section's pack behind the confidentiality statement."""
