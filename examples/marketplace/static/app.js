// The marketplace's own page script: its own service worker (scope /), and what it does
// with the bell's events. vendorbell's worker lives at /vendorbell/ and never competes.

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});

const bell = document.querySelector('vendor-bell');
const status = document.getElementById('status');
if (bell && status) {
  bell.addEventListener('vb-unread-change', (event) => { status.textContent = `${event.detail.unread} unread`; });
  bell.addEventListener('vb-auth-error', (event) => { status.textContent = `Notifications unavailable (${event.detail.code})`; });
  bell.addEventListener('vb-click', (event) => {
    // A single-page app would route itself here with event.preventDefault().
    document.body.dataset.lastClick = event.detail.url;
  });
}
