// <vendor-bell>: vendorbell's bell as one custom element on a marketplace's own pages.
// No framework, no dependency; styles in a constructable stylesheet (no inline styles, so a
// strict CSP needs nothing but the script and connect sources). The marketplace vouches for
// the vendor with a short JWT it signs (token-url or tokenProvider); the element exchanges it
// for a short bearer session kept in memory only, and renews it through the marketplace.

const VERSION = 'v1';
const LATEST = 8;
const RENEW_AT = 0.8; // of the session's life
const POLL_MS = 30_000; // counts, when the live channel cannot connect
const LOCALES = ['en', 'de', 'fr'];
// English is built in (the budget counts it); de and fr come from /embed/v1/i18n/<lang>.json,
// the PWA catalogues' own keys.
const EN = {
  'bell.title': 'Notifications',
  'bell.label_unread.one': 'Notifications, {count} unread',
  'bell.label_unread.other': 'Notifications, {count} unread',
  'bell.mark_all_read': 'Mark all read',
  'bell.latest': 'Latest notifications',
  'bell.empty': 'Nothing yet. New orders will show up here.',
  'common.loading': 'Loading…',
  'inbox.unread': 'unread',
  'time.just_now': 'just now',
  'embed.push_offer': 'Get an alert for new orders, even when this page is closed.',
  'embed.push_enable': 'Enable notifications',
  'embed.push_on': 'Notifications are on for this browser.',
  'embed.push_blocked': 'Notifications are blocked for this site. Allow them in your browser’s site settings.',
  'embed.needs_install': 'On iPhone and iPad, add this site to your Home Screen (Share → Add to Home Screen) and open it from there to get notifications.',
  'embed.push_unsupported': 'This browser cannot show notifications while the page is closed. New orders still appear here live.',
  'embed.push_failed': 'Notifications could not be turned on. Try again later.',
  'embed.push_conflict': 'Another notification service already uses this site’s notifications in this browser.',
  'embed.unavailable': 'Notifications cannot be loaded right now.',
};

const CSS = `
:host{--vb-accent:#d93025;--vb-bg:#fff;--vb-fg:#1f2328;--vb-radius:12px;--vb-font:inherit;--vb-panel-width:380px;
--vb-muted:#5f6368;--vb-line:#e3e5e8;--vb-unread:#eef3fd;position:relative;display:inline-block;font:var(--vb-font);color:var(--vb-fg)}
:host([theme=dark]){--vb-bg:#1e1f22;--vb-fg:#e8eaed;--vb-muted:#a8adb3;--vb-line:#3a3c40;--vb-unread:#263044;--vb-link:color-mix(in srgb,var(--vb-accent) 40%,#fff)}
@media (prefers-color-scheme:dark){:host([theme=auto]){--vb-bg:#1e1f22;--vb-fg:#e8eaed;--vb-muted:#a8adb3;--vb-line:#3a3c40;--vb-unread:#263044;--vb-link:color-mix(in srgb,var(--vb-accent) 40%,#fff)}}
*{box-sizing:border-box}
button{font:inherit;color:inherit;cursor:pointer}
[part=button]{position:relative;display:inline-flex;align-items:center;justify-content:center;width:44px;height:44px;border:0;border-radius:50%;background:transparent}
[part=button]:hover{background:color-mix(in srgb,currentColor 8%,transparent)}
:focus-visible{outline:2px solid var(--vb-accent);outline-offset:2px}
[part=badge]{position:absolute;top:4px;right:2px;min-width:18px;height:18px;padding:0 5px;border-radius:9px;background:var(--vb-accent);color:#fff;font-size:11px;font-weight:700;line-height:18px;text-align:center}
[hidden]{display:none!important}
[part=panel]{position:fixed;z-index:2147483000;width:min(var(--vb-panel-width),calc(100vw - 16px));max-height:min(70vh,560px);overflow:auto;
background:var(--vb-bg);color:var(--vb-fg);border:1px solid var(--vb-line);border-radius:var(--vb-radius);box-shadow:0 8px 28px rgb(0 0 0/.18)}
.head{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:12px 14px;border-bottom:1px solid var(--vb-line)}
.link{border:0;background:none;color:var(--vb-link,var(--vb-accent));padding:4px;font-size:.9em;text-decoration:underline}
.link:disabled{color:var(--vb-muted);text-decoration:none;cursor:default}
ul{list-style:none;margin:0;padding:0}
[part~=item]{border-bottom:1px solid var(--vb-line)}
[part~=item] a{display:flex;gap:10px;padding:10px 14px;color:inherit;text-decoration:none}
[part~=item] a:hover{background:color-mix(in srgb,currentColor 6%,transparent)}
[part~=item-unread]{background:var(--vb-unread)}
.text{display:flex;flex-direction:column;gap:2px;min-width:0;flex:1}
.title{font-weight:600;overflow-wrap:anywhere}
.body{color:var(--vb-muted);font-size:.9em;overflow-wrap:anywhere}
time{color:var(--vb-muted);font-size:.8em}
.dot{flex:none;width:8px;height:8px;margin-top:6px;border-radius:50%;background:var(--vb-accent)}
[part=empty],.note{padding:14px;color:var(--vb-muted)}
::slotted([slot=footer]){display:block;padding:10px 14px;color:inherit;border-top:1px solid var(--vb-line)}
.push{padding:12px 14px;border-top:1px solid var(--vb-line);font-size:.9em}
.push button{margin-top:8px;padding:8px 12px;border:0;border-radius:8px;background:var(--vb-accent);color:#fff;font-weight:600}
svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
`;

const BELL = ['M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9', 'M10.3 21a1.94 1.94 0 0 0 3.4 0'];

/** The bell's icon, built as nodes (no markup parsed from strings, as everywhere). */
function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of BELL) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

let sheet = null;
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else if (value !== false && value != null) node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c != null));
  return node;
}

/** An error the element reports as vb-auth-error {code}. */
class AuthError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** iOS/iPadOS Safari outside a Home Screen app cannot subscribe to push at all. */
function needsInstall() {
  const ios = /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
  return ios && !matchMedia('(display-mode: standalone)').matches && !navigator.standalone;
}

function keyBytes(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

class VendorBell extends HTMLElement {
  static observedAttributes = ['lang', 'theme', 'push'];

  constructor() {
    super();
    this.tokenProvider = null;
    this._session = null; // {token, expiresAt, user, vapid}
    this._counts = { unread: 0, unseen: 0 };
    this._items = null;
    this._strings = EN;
    this._pushState = 'default';
    this._timers = {};
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [styles()];
    this._build(root);
  }

  get server() {
    return (this.getAttribute('server') || '').replace(/\/+$/, '');
  }

  get swScope() {
    return this.getAttribute('sw-scope') || '/vendorbell/';
  }

  // ------------------------------------------------------------ lifecycle

  connectedCallback() {
    this._onDoc = (event) => { if (!this._panel.hidden && !event.composedPath().includes(this)) this.close(); };
    this._onKey = (event) => { if (event.key === 'Escape' && !this._panel.hidden) this.close({ refocus: true }); };
    this._onVisible = () => { if (document.visibilityState === 'visible') this._resume(); };
    this._onResize = () => { if (!this._panel.hidden) this._place(); };
    document.addEventListener('click', this._onDoc);
    document.addEventListener('keydown', this._onKey);
    document.addEventListener('visibilitychange', this._onVisible);
    addEventListener('resize', this._onResize);
    this._start();
  }

  disconnectedCallback() {
    document.removeEventListener('click', this._onDoc);
    document.removeEventListener('keydown', this._onKey);
    document.removeEventListener('visibilitychange', this._onVisible);
    removeEventListener('resize', this._onResize);
    this._stopLive();
    Object.values(this._timers).forEach(clearTimeout);
  }

  attributeChangedCallback(name) {
    if (name === 'lang' && this.isConnected) this._loadStrings().then(() => this._render());
    if (name === 'push' && this._session) this._autoPush();
  }

  async _start() {
    await this._loadStrings();
    this._render();
    if (!this.server) return this._fail('server_missing');
    try {
      await this._signIn();
    } catch (error) {
      return this._fail(error.code || 'token_invalid');
    }
    this._emit('vb-ready', {});
    this._startLive();
    this._autoPush();
  }

  _fail(code) {
    this._note.textContent = this._t('embed.unavailable');
    this._note.hidden = false;
    this._emit('vb-auth-error', { code });
  }

  // ------------------------------------------------------------ words

  _lang() {
    const own = this.closest('[lang]');
    const tags = [own && own.getAttribute('lang'), ...(navigator.languages || [navigator.language])];
    for (const tag of tags) {
      const base = String(tag || '').toLowerCase().split('-')[0];
      if (LOCALES.includes(base)) return base;
    }
    return 'en';
  }

  async _loadStrings() {
    const lang = this._lang();
    this._locale = lang;
    this._plurals = new Intl.PluralRules(lang);
    if (lang === 'en' || !this.server) return void (this._strings = EN);
    try {
      const response = await fetch(`${this.server}/embed/${VERSION}/i18n/${lang}.json`, { credentials: 'omit' });
      this._strings = { ...EN, ...(await response.json()) };
    } catch {
      this._strings = EN;
    }
  }

  _t(key, params = {}) {
    let text;
    if (typeof params.count === 'number') text = this._strings[`${key}.${this._plurals.select(params.count)}`];
    text ??= this._strings[key] ?? EN[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  _ago(iso) {
    const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 45) return this._t('time.just_now');
    const rtf = new Intl.RelativeTimeFormat(this._locale, { numeric: 'auto' });
    if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), 'minute');
    if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), 'hour');
    if (seconds < 7 * 86400) return rtf.format(-Math.round(seconds / 86400), 'day');
    return new Intl.DateTimeFormat(this._locale, { dateStyle: 'medium' }).format(new Date(iso));
  }

  _emit(name, detail, cancelable = false) {
    return this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable }));
  }

  // ------------------------------------------------------------ session

  async _jwt() {
    if (typeof this.tokenProvider === 'function') return String(await this.tokenProvider());
    const url = this.getAttribute('token-url');
    if (!url) throw new AuthError('token_missing');
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) throw new AuthError('token_unavailable');
    return (await response.text()).trim();
  }

  /** A new JWT from the marketplace, exchanged for a session (the first and every renewal). */
  async _signIn() {
    const jwt = await this._jwt();
    const response = await fetch(`${this.server}/api/embed/session`, {
      method: 'POST',
      credentials: 'omit',
      headers: { Authorization: `Bearer ${jwt}`, Accept: 'application/json' },
    }).catch(() => null);
    const data = response && (await response.json().catch(() => null));
    if (!response || !response.ok || !data) throw new AuthError((data && data.code) || (response ? 'token_invalid' : 'offline'));
    const issued = Date.now();
    const expiresAt = Date.parse(data.expires_at);
    this._session = { token: data.token, issued, expiresAt, user: data.user, vapid: data.vapid_public_key };
    if (data.counts) this._setCounts(data.counts);
    clearTimeout(this._timers.renew);
    const renewIn = Math.max(5_000, (expiresAt - issued) * RENEW_AT);
    this._timers.renew = setTimeout(() => this._renew(), renewIn);
    if (this._socket && this._socket.readyState === WebSocket.OPEN) this._sendAuth();
  }

  async _renew() {
    try {
      await this._signIn();
    } catch (error) {
      this._emit('vb-auth-error', { code: error.code || 'token_invalid' });
    }
  }

  /** Due for renewal (80 % of its life gone)? */
  _stale() {
    const s = this._session;
    return !s || Date.now() >= s.issued + (s.expiresAt - s.issued) * RENEW_AT;
  }

  async _api(path, { method = 'GET', body } = {}, retry = true) {
    if (!this._session) throw new AuthError('signed_out');
    const headers = { Authorization: `Bearer ${this._session.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${this.server}${path}`, {
      method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && retry) {
      await this._signIn();
      return this._api(path, { method, body }, false);
    }
    if (!response.ok) throw new AuthError(`http_${response.status}`);
    return response.status === 204 ? null : response.json();
  }

  // ------------------------------------------------------------ live: one socket per browser and vendor

  _key() {
    return `vendorbell:${this.server}:${this._session.user.id}`;
  }

  _startLive() {
    this._stopped = false;
    this._channel = 'BroadcastChannel' in self ? new BroadcastChannel(this._key()) : null;
    if (this._channel) this._channel.onmessage = (event) => this._fromChannel(event.data);
    if (navigator.locks) {
      this._release = new Promise((resolve) => { this._releaseLock = resolve; });
      // The tab holding the lock owns the socket; when it closes, the next tab takes over.
      navigator.locks.request(this._key(), () => (this._stopped ? null : (this._own(), this._release))).catch(() => {});
    } else {
      this._own();
    }
  }

  _stopLive() {
    this._stopped = true;
    if (this._releaseLock) this._releaseLock();
    this._owner = false;
    clearTimeout(this._timers.connect);
    clearTimeout(this._timers.poll);
    if (this._socket) this._socket.close(1000);
    this._socket = null;
    if (this._channel) this._channel.close();
    this._channel = null;
  }

  _own() {
    this._owner = true;
    this._failures = 0;
    this._connect();
  }

  _fromChannel(message) {
    if (message.type === 'live') this._receive(message.data, false);
    if (message.type === 'resume' && this._owner) this._reconnectNow();
  }

  _connect() {
    if (this._stopped || !this._owner) return;
    if (typeof WebSocket === 'undefined') return this._poll();
    const url = new URL(`${this.server}/ws/notifications`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this._lastId) url.searchParams.set('since', this._lastId);
    const socket = new WebSocket(url);
    this._socket = socket;
    // The token goes in the first message, never in the URL (logs, proxies).
    socket.onopen = () => this._sendAuth();
    socket.onmessage = (event) => {
      this._failures = 0;
      clearTimeout(this._timers.poll);
      this._receive(event.data, true);
    };
    socket.onclose = (event) => this._closed(socket, event.code);
  }

  _sendAuth() {
    if (this._socket && this._session) this._socket.send(JSON.stringify({ type: 'auth', token: this._session.token }));
  }

  async _closed(socket, code) {
    if (this._socket !== socket) return;
    this._socket = null;
    if (this._stopped) return;
    if (code === 4403) {
      // This page's origin may not hold the live channel: the counts still come by polling.
      this._emit('vb-auth-error', { code: 'origin_mismatch' });
      return this._poll();
    }
    if (code === 4401) await this._renew();
    this._failures = (this._failures || 0) + 1;
    // After a few failures poll the counts meanwhile, and keep trying the socket.
    if (this._failures >= 3) this._poll();
    const delay = Math.random() * Math.min(30_000, 500 * 2 ** this._failures);
    this._timers.connect = setTimeout(() => this._connect(), delay);
  }

  _reconnectNow() {
    if (this._socket || this._stopped) return;
    clearTimeout(this._timers.connect);
    this._connect();
  }

  _poll() {
    clearTimeout(this._timers.poll);
    this._refreshCounts();
    this._timers.poll = setTimeout(() => this._poll(), POLL_MS);
  }

  async _refreshCounts() {
    const counts = await this._api('/api/notifications/count').catch(() => null);
    if (counts) this._setCounts(counts);
  }

  /** A tab back from the background: a fresh token first, then the socket (and the counts). */
  async _resume() {
    if (!this._session) return;
    if (this._stale()) await this._renew();
    if (this._owner) this._reconnectNow();
    else if (this._channel) this._channel.postMessage({ type: 'resume' });
    this._refreshCounts();
  }

  _receive(raw, share) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.type === 'ping') {
      if (share && this._socket) this._socket.send('{"type":"pong"}');
      return;
    }
    if (share && this._channel) this._channel.postMessage({ type: 'live', data: raw });
    if (message.type === 'notification' && message.notification) {
      const n = message.notification;
      this._lastId = String(n.id);
      if (this._items) this._items = [n, ...this._items.filter((i) => i.id !== n.id)].slice(0, LATEST);
      this._setCounts(message);
      this._renderList();
      this._emit('vb-notification', { notification: n });
    } else if (message.type === 'counts') {
      this._setCounts(message);
    }
  }

  _setCounts({ unread, unseen }) {
    if (typeof unread !== 'number' || typeof unseen !== 'number') return;
    const changed = unread !== this._counts.unread || unseen !== this._counts.unseen;
    this._counts = { unread, unseen };
    this._drawBadge();
    if (changed) this._emit('vb-unread-change', { unread, unseen });
  }

  // ------------------------------------------------------------ the bell

  _build(root) {
    this._badge = el('span', { part: 'badge', hidden: true });
    this._button = el('button', { part: 'button', type: 'button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': 'panel', onclick: () => (this._panel.hidden ? this.open() : this.close()) },
      el('slot', { name: 'icon' }), this._badge);
    this._button.querySelector('slot').replaceChildren(bellIcon()); // the slot's fallback content
    this._heading = el('strong');
    this._markAll = el('button', { class: 'link', type: 'button', onclick: () => this.markAllRead() });
    this._list = el('ul');
    this._note = el('p', { class: 'note', hidden: true, role: 'status' });
    this._push = el('div', { class: 'push', hidden: true });
    this._panel = el('div', { part: 'panel', id: 'panel', role: 'dialog', hidden: true },
      el('div', { class: 'head' }, this._heading, this._markAll), this._note, this._list, this._push, el('slot', { name: 'footer' }));
    root.append(this._button, this._panel);
  }

  _render() {
    this._heading.textContent = this._t('bell.title');
    this._markAll.textContent = this._t('bell.mark_all_read');
    this._panel.setAttribute('aria-label', this._t('bell.latest'));
    this._drawBadge();
    this._renderList();
    this._drawPush();
  }

  _drawBadge() {
    const { unread, unseen } = this._counts;
    this._badge.hidden = unseen === 0;
    this._badge.textContent = unseen > 99 ? '99+' : String(unseen);
    this._button.setAttribute('aria-label', unread ? this._t('bell.label_unread', { count: unread }) : this._t('bell.title'));
    this._markAll.disabled = unread === 0;
  }

  _renderList() {
    if (this._items === null) return this._list.replaceChildren(el('li', { part: 'empty' }, this._t('common.loading')));
    if (!this._items.length) return this._list.replaceChildren(el('li', { part: 'empty' }, this._t('bell.empty')));
    this._list.replaceChildren(...this._items.map((n) => this._row(n)));
  }

  _row(n) {
    const unread = !n.read_at;
    return el('li', { part: unread ? 'item item-unread' : 'item', 'data-id': n.id },
      el('a', { href: this._url(n), onclick: (event) => { event.preventDefault(); this._openItem(n); } },
        el('span', { class: 'text' },
          el('span', { class: 'title' }, n.title),
          n.body ? el('span', { class: 'body' }, n.body) : null,
          el('time', { datetime: n.created_at }, this._ago(n.created_at))),
        unread ? el('span', { class: 'dot', role: 'img', 'aria-label': this._t('inbox.unread') }) : null));
  }

  /** Where an item leads: an absolute http(s) URL (the server resolves it under the
   * integration's link_base); anything else stays on this page. */
  _url(n) {
    try {
      const url = new URL(n.url || '', location.href);
      return /^https?:$/.test(url.protocol) ? url.href : location.href;
    } catch {
      return location.href;
    }
  }

  async _openItem(n) {
    const url = this._url(n);
    this.close();
    if (!n.read_at) {
      n.read_at = new Date().toISOString();
      this._renderList();
      this._api(`/api/notifications/${encodeURIComponent(n.id)}/read`, { method: 'POST' }).catch(() => null);
    }
    // Cancelable: a single-page app routes itself.
    if (this._emit('vb-click', { notification: n, url }, true)) location.assign(url);
  }

  _place() {
    const margin = 8;
    const viewport = document.documentElement.clientWidth;
    const bell = this._button.getBoundingClientRect();
    const width = Math.min(this._panel.offsetWidth || 380, viewport - 2 * margin);
    const left = Math.min(Math.max(margin, bell.right + margin - width), viewport - margin - width);
    // Positions go through the CSSOM (not a style attribute), which a strict CSP allows.
    this._panel.style.left = `${left}px`;
    this._panel.style.top = `${bell.bottom + margin}px`;
  }

  // ------------------------------------------------------------ methods

  async open() {
    if (!this._panel.hidden) return;
    this._panel.hidden = false;
    this._place();
    this._button.setAttribute('aria-expanded', 'true');
    this._renderList();
    if (!this._session) return;
    const page = await this._api(`/api/notifications?limit=${LATEST}`).catch(() => null);
    this._items = page ? page.items : this._items || [];
    this._renderList();
    // Opening the bell means the vendor has seen what is new.
    if (this._counts.unseen) this._api('/api/notifications/mark-all-seen', { method: 'POST' }).then(() => this._setCounts({ ...this._counts, unseen: 0 })).catch(() => null);
  }

  close({ refocus = false } = {}) {
    if (this._panel.hidden) return;
    const inside = this._panel.contains(this.shadowRoot.activeElement);
    this._panel.hidden = true;
    this._button.setAttribute('aria-expanded', 'false');
    if (refocus || inside) this._button.focus();
  }

  async markAllRead() {
    const result = await this._api('/api/notifications/mark-all-read', { method: 'POST' }).catch(() => null);
    if (!result) return;
    const now = new Date().toISOString();
    (this._items || []).forEach((n) => { n.read_at = n.read_at || now; });
    this._setCounts({ unread: 0, unseen: 0 });
    this._renderList();
  }

  async signOut() {
    const session = this._session;
    this._stopLive();
    this._session = null;
    this._items = null;
    clearTimeout(this._timers.renew);
    this._setCounts({ unread: 0, unseen: 0 });
    if (session) {
      await fetch(`${this.server}/api/embed/session`, { method: 'DELETE', credentials: 'omit', headers: { Authorization: `Bearer ${session.token}` } }).catch(() => null);
    }
  }

  // ------------------------------------------------------------ push on the marketplace's origin

  _setPush(state) {
    if (state === this._pushState) return;
    this._pushState = state;
    this._drawPush();
    this._emit('vb-push-change', { state });
  }

  _pushSupport() {
    if (needsInstall()) return 'needs-install';
    if (!('serviceWorker' in navigator) || !('PushManager' in self) || !('Notification' in self)) return 'unsupported';
    return Notification.permission;
  }

  async _autoPush() {
    const mode = this.getAttribute('push') || 'prompt';
    const state = this._pushSupport();
    this._subscribed = state === 'granted' && (await this._hasSubscription());
    this._setPush(state);
    // Never a prompt without a gesture: `auto` subscribes only where permission is granted.
    if (mode === 'auto' && state === 'granted' && !this._subscribed) await this.enablePush();
    this._drawPush();
  }

  _scope() {
    return new URL(this.swScope, location.href).pathname;
  }

  async _hasSubscription() {
    const registration = await navigator.serviceWorker.getRegistration(this._scope()).catch(() => null);
    return Boolean(registration && (await registration.pushManager.getSubscription().catch(() => null)));
  }

  _drawPush() {
    const mode = this.getAttribute('push') || 'prompt';
    const state = this._pushState;
    const box = this._push;
    const offer = state === 'default' || (state === 'granted' && !this._subscribed);
    box.hidden = mode === 'off' || !this._session || (state === 'granted' && this._subscribed);
    const words = {
      denied: 'embed.push_blocked', unsupported: 'embed.push_unsupported',
      'needs-install': 'embed.needs_install', conflict: 'embed.push_conflict',
    };
    const key = this._pushFailed ? 'embed.push_failed' : words[state] || 'embed.push_offer';
    const children = [el('div', {}, this._t(key))];
    if (offer) children.push(el('button', { type: 'button', onclick: () => this.enablePush() }, this._t('embed.push_enable')));
    box.replaceChildren(...children);
  }

  /** Ask for permission (call it from a click), register the /vendorbell/ worker, subscribe. */
  async enablePush() {
    let state = this._pushSupport();
    if (state === 'default') state = await Notification.requestPermission();
    if (state !== 'granted' || !this._session) return this._setPush(state);
    try {
      const scope = this._scope();
      const registration = await navigator.serviceWorker.register(`${scope}sw.js`, { scope });
      const worker = registration.installing || registration.waiting || registration.active;
      if (worker && worker.state !== 'activated') {
        await new Promise((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
      }
      const key = keyBytes(this._session.vapid);
      let subscription = await registration.pushManager.getSubscription();
      if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
        // Subscribed by something else under this scope with another server's key.
        return this._setPush('conflict');
      }
      subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      const saved = await this._api('/api/push/subscriptions', { method: 'POST', body: { ...subscription.toJSON(), label: navigator.userAgentData?.platform || 'Browser' } });
      // The worker keeps the device's renewal token: with it, it moves the device to the
      // browser's next subscription (`pushsubscriptionchange`) without a session.
      registration.active?.postMessage({ vendorbell: 'device', endpoint: saved.endpoint, renewal_token: saved.renewal_token });
      this._pushFailed = false;
      this._subscribed = true;
      this._setPush('granted');
    } catch (error) {
      this._pushFailed = true;
      this._setPush(error && error.name === 'InvalidStateError' ? 'conflict' : 'granted');
    }
    this._drawPush();
  }
}

function sameKey(buffer, bytes) {
  if (!buffer) return true;
  const own = new Uint8Array(buffer);
  return own.length === bytes.length && own.every((b, i) => b === bytes[i]);
}

if (!customElements.get('vendor-bell')) customElements.define('vendor-bell', VendorBell);

export { VendorBell };
