// "Turn on push" on My alerts: registers the service worker, asks the
// browser for a push subscription with the server's VAPID key and links it
// like any other channel. Without JavaScript or push support the button
// stays hidden and the page says so.
(function () {
  'use strict';
  var box = document.getElementById('push');
  if (!box) { return; }
  var btn = document.getElementById('push-on');
  var state = document.getElementById('push-state');
  var key = box.getAttribute('data-key');
  if (!key || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    state.textContent = box.getAttribute('data-unsupported');
    return;
  }
  btn.hidden = false;
  function b64(s) {
    var pad = '='.repeat((4 - s.length % 4) % 4);
    var raw = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  btn.addEventListener('click', function () {
    btn.disabled = true;
    state.textContent = box.getAttribute('data-working');
    Notification.requestPermission().then(function (perm) {
      if (perm !== 'granted') { throw new Error('denied'); }
      return navigator.serviceWorker.register('/inbox/sw.js', { scope: '/inbox/' });
    }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64(key) });
    }).then(function (sub) {
      var body = new URLSearchParams();
      body.set('csrf', box.getAttribute('data-csrf'));
      body.set('kind', 'webpush');
      body.set('address', JSON.stringify(sub));
      return fetch('/inbox/alerts/targets', { method: 'POST', body: body, credentials: 'same-origin' });
    }).then(function (res) {
      if (!res.ok) { throw new Error('refused'); }
      location.href = res.url || '/inbox/alerts';
    }).catch(function (err) {
      btn.disabled = false;
      state.textContent = box.getAttribute(err && err.message === 'denied' ? 'data-denied' : 'data-failed');
    });
  });
})();
