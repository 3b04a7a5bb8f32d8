"""Infrastructure every feature uses: settings, database engines, errors, HTTP
helpers, logging, ids, text types and languages, the unit of work, signals, caches
and the migrations runner. It imports no feature."""
