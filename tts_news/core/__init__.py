"""Below everything: settings, errors, atomic files, the guarded HTTP client."""
