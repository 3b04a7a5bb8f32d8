// Web Push on this browser: permission (only ever asked from a click), the subscription
// made with the server's VAPID key, and keeping the server's copy of it current.

import { del, get, post } from './api.js';
import './device-label.js';  // defines self.deviceLabel(), shared with the service worker

const KEY_STORE = 'vb.vapid';
const DEVICE_STORE = 'vb.device';

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

export function permission() {
  return pushSupported() ? Notification.permission : 'unsupported';
}

export function base64urlToBytes(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function bytesToBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** "Chrome on Linux": how the devices page names this browser. */
export function deviceLabel() {
  return self.deviceLabel();  // device-label.js, shared with the service worker
}

export async function currentSubscription() {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.ready;
  return registration.pushManager.getSubscription();
}

export function thisDeviceId() {
  return localStorage.getItem(DEVICE_STORE);
}

function subscribedWithKey(subscription, key) {
  const used = subscription.options && subscription.options.applicationServerKey;
  if (used) return bytesToBase64url(used) === key;
  return localStorage.getItem(KEY_STORE) === key;
}

/**
 * Subscribe (or re-subscribe when the server's VAPID key changed) and post the subscription.
 * The server answers 201 for a new endpoint and 200 for one it knows, so this is safe to repeat.
 */
export async function subscribe() {
  const { public_key: key } = await get('/api/push/vapid-public-key');
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !subscribedWithKey(subscription, key)) {
    // A push service binds a subscription to one key: a rotated key needs a new one.
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64urlToBytes(key),
    });
  }
  const device = await post('/api/push/subscriptions', { ...subscription.toJSON(), label: deviceLabel() });
  localStorage.setItem(KEY_STORE, key);
  localStorage.setItem(DEVICE_STORE, device.id);
  return device;
}

/** Called from a click only: browsers (rightly) penalise permission prompts on page load. */
export async function enableNotifications() {
  if (!pushSupported()) return { state: 'unsupported' };
  const result = await Notification.requestPermission();
  if (result !== 'granted') return { state: result };
  return { state: 'subscribed', device: await subscribe() };
}

/**
 * On start-up: if this browser is subscribed, make sure the server has the subscription and
 * that it was made with the key the server serves now. Never subscribes on its own: a vendor
 * who removed this device must not get it back by reloading.
 */
export async function syncSubscription() {
  if (permission() !== 'granted') return null;
  try {
    if (!(await currentSubscription())) return null;
    return await subscribe();
  } catch (error) {
    console.warn('vendorbell: could not refresh the push subscription', error);
    return null;
  }
}

export async function disableNotifications() {
  const subscription = await currentSubscription();
  const id = thisDeviceId();
  if (id) await del(`/api/push/subscriptions/${encodeURIComponent(id)}`).catch(() => null);
  if (subscription) await subscription.unsubscribe();
  localStorage.removeItem(DEVICE_STORE);
}
