"""The Textual views: picker and session screen. Knows the model and the event stream, not
the kernel: live runs talk to the engine subprocess through ``feed.LiveFeed``."""
