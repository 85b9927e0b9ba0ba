# An empty configuration is valid: it asks for an empty table (minus what
# an ignore block would protect).
