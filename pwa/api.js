// The one fetch wrapper: same-origin cookie auth, JSON in and out, errors as ApiError.

import { keepsAnswer, save, saved } from './saved.js';
import { emit } from './state.js';

export class ApiError extends Error {
  constructor(status, detail, code, retryAfter = null, errors = null) {
    super(detail);
    this.status = status;
    this.code = code;
    /** Seconds to wait before trying again (a 429's Retry-After), or null. */
    this.retryAfter = retryAfter;
    /** A refused body's parts ({loc, msg, type}), for messages.js to word; or null. */
    this.errors = errors;
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
    const errors = data && Array.isArray(data.errors) ? data.errors : null;
    throw new ApiError(response.status, detail, data && data.code, wait > 0 ? wait : null, errors);
  }
  return data;
}

/**
 * GET; the inbox, orders and counts are also saved on this device, and given back from
 * there when the network is gone (the app is told, so it can say it shows saved data).
 */
export async function get(path) {
  try {
    const data = await api(path);
    if (keepsAnswer(path)) save(path, data);
    return data;
  } catch (error) {
    const copy = error instanceof OfflineError && keepsAnswer(path) ? saved(path) : null;
    if (!copy) throw error;
    emit('showing-saved', copy.at);
    return copy.data;
  }
}

export const post = (path, body, headers) => api(path, { method: 'POST', body, headers });
export const del = (path) => api(path, { method: 'DELETE' });

/** Build a query string, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
