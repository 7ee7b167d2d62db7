"""Speech-to-text engines: one small async interface beside the chat providers'."""
