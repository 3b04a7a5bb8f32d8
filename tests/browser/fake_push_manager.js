// Simulated PushManager for the subscribe tests (see test_subscribe.py for why).
// __MADE__ and __EXISTING_KEY__ are replaced by the test before injection.
(() => {
  const made = __MADE__; // from the loopback test push service
  const existingKey = __EXISTING_KEY__; // base64url key an older subscription was made with, or null
  const decode = (t) => Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const encode = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  // Like a browser, the subscription outlives the page: kept in localStorage across loads.
  const STORE = '__fake_push_key';
  if (existingKey && localStorage.getItem(STORE) === null) localStorage.setItem(STORE, existingKey);
  window.__push = { subscribeCalls: [], unsubscribed: 0 };
  const fake = (key) => ({
    endpoint: made.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: key.buffer },
    toJSON: () => made,
    unsubscribe: async () => { window.__push.unsubscribed += 1; localStorage.removeItem(STORE); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__push.subscribeCalls.push({ userVisibleOnly: options.userVisibleOnly, key: encode(key) });
    localStorage.setItem(STORE, encode(key));
    return fake(key);
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem(STORE);
    return key === null ? null : fake(decode(key));
  };
})();
