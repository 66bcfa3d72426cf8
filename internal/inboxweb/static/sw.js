// Hotline inbox service worker: shows Web Push alerts and opens their link.
// A push carries {title, body, url, tag, urgent}: the alias, the school and
// a link, never report content. Nothing is cached.
'use strict';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });

self.addEventListener('push', function (e) {
  var d = {};
  try { d = e.data ? e.data.json() : {}; } catch (err) { d = { body: e.data ? e.data.text() : '' }; }
  var title = d.title || 'Hotline 提醒 / alert';
  var opts = {
    body: d.body || '',
    tag: d.tag || 'hotline',
    renotify: true,
    requireInteraction: !!d.urgent,
    icon: '/inbox/icons/192.png',
    badge: '/inbox/icons/192.png',
    data: { url: d.url || '/inbox/' }
  };
  if (d.urgent) { opts.vibrate = [300, 100, 300, 100, 300]; }
  e.waitUntil(self.registration.showNotification(title, opts));
});

self.addEventListener('notificationclick', function (e) {
  e.notification.close();
  var url = (e.notification.data && e.notification.data.url) || '/inbox/';
  // Only our own pages open from a notification.
  try { if (new URL(url, self.location.origin).origin !== self.location.origin) { url = '/inbox/'; } } catch (err) { url = '/inbox/'; }
  e.waitUntil(self.clients.openWindow(url));
});
