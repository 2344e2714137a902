"""dxbot's domain core: store, parsing, Vietnamese text and matching, queries, answers. Never imports telegram."""
