"""Reading a question: Vietnamese text, vocabulary, the unit resolver and catalog, intents, levels, tiers."""
