// The live channel: one WebSocket per tab, reconnecting with exponential backoff and full
// jitter, resuming with `since=<last notification id>` so nothing is missed.

const BASE_DELAY = 500;
const MAX_DELAY = 30_000;
// 1012 (the server lost events, e.g. its Redis, or restarts) and 1001 (this process is
// going away) mean another process answers now or this one very soon: until the next
// open, retry at least every RESTART_MAX_DELAY instead of backing off to MAX_DELAY.
const RESTART_CODES = new Set([1001, 1012]);
const RESTART_MAX_DELAY = 2_000;
const RED_AFTER_FAILURES = 4; // after this many failed attempts in a row we call it offline

export class Live extends EventTarget {
  constructor(path = '/ws/notifications') {
    super();
    this.path = path;
    this.socket = null;
    this.failures = 0;
    this.restarting = false; // the last close said "come back soon" (RESTART_CODES)
    this.lastId = null;
    this.timer = null;
    this.stopped = false;
    this.state = 'connecting';
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.setState('offline');
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  /** Remember the newest notification we have, for the resync after a drop. IDs are opaque,
   * so "newest" is the last one the server sent us (it sends them in order). */
  seen(id) {
    if (id) this.lastId = String(id);
  }

  /** Where to resume if nothing has arrived over the socket yet (the inbox's newest). */
  seed(id) {
    if (id && this.lastId === null) this.lastId = String(id);
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.lastId ? `?since=${encodeURIComponent(this.lastId)}` : '';
    return `${scheme}//${location.host}${this.path}${since}`;
  }

  connect() {
    if (this.stopped) return;
    if (!navigator.onLine) return this.setState('offline');
    this.setState(this.failures ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.failures = 0;
      this.restarting = false;
      this.setState('live');
      this.dispatchEvent(new CustomEvent('open'));
    });
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4401) {
        this.setState('offline');
        this.dispatchEvent(new CustomEvent('unauthorized'));
        return;
      }
      if (RESTART_CODES.has(event.code)) this.restarting = true;
      this.scheduleReconnect();
    });
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.type === 'ping') {
      // The server closes a connection that stays silent for two pings (half-open TCP).
      if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send('{"type":"pong"}');
      return;
    }
    if (message.type === 'notification' && message.notification) this.seen(message.notification.id);
    this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.failures += 1;
    // Full jitter (AWS architecture blog): spread reconnects of many tabs after a restart.
    const cap = this.restarting ? RESTART_MAX_DELAY : MAX_DELAY;
    const ceiling = Math.min(cap, BASE_DELAY * 2 ** (this.failures - 1));
    const delay = Math.random() * ceiling;
    this.setState(this.failures >= RED_AFTER_FAILURES || !navigator.onLine ? 'offline' : 'reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}
