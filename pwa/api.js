// The one fetch wrapper: same-origin cookie auth, JSON in and out, errors as ApiError.

export class ApiError extends Error {
  constructor(status, detail, code, retryAfter = null) {
    super(detail);
    this.status = status;
    this.code = code;
    /** Seconds to wait before trying again (a 429's Retry-After), or null. */
    this.retryAfter = retryAfter;
  }
}

/** Thrown when the server cannot be reached at all (offline, server down). */
export class OfflineError extends ApiError {
  constructor() {
    super(0, 'You are offline. Reconnect to load this.', 'offline');
  }
}

export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new OfflineError();
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = (data && typeof data.detail === 'string') ? data.detail : `Request failed (${response.status}).`;
    const wait = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    throw new ApiError(response.status, detail, data && data.code, wait > 0 ? wait : null);
  }
  return data;
}

export const get = (path) => api(path);
export const post = (path, body, headers) => api(path, { method: 'POST', body, headers });
export const del = (path) => api(path, { method: 'DELETE' });

/** Build a query string, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
