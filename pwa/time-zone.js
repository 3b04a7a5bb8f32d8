// Time zones by their IANA names: this browser's own, and every one it knows.

export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** `current`, this browser's zone, UTC and every zone the browser knows, sorted. */
export function zoneNames(current) {
  let names = [];
  try {
    names = Intl.supportedValuesOf('timeZone');
  } catch {
    names = [];
  }
  return [...new Set([current, browserTimeZone(), 'UTC', ...names])].filter(Boolean).sort();
}
