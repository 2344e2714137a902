"""The conversation core: events in, replies out, for every messenger (core), with typed and authenticated button actions (actions)."""
