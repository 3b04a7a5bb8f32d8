"""Infrastructure every feature uses: settings, database engines, errors, HTTP
helpers, logging, ids, text types and languages."""
