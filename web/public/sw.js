/*
 * Loa Xã's service worker (issue 20): the app installs on a phone's home screen, shows Web Push notifications,
 * and opens to a clear Vietnamese "no connection" page when the server cannot be reached — never to the
 * browser's own error page. It caches only that page: the app itself is always fetched from the server, so a
 * page never shows stale broadcasts. Served with `Cache-Control: no-cache` (server/src/routes/web.ts), so a new
 * version is picked up at the next visit.
 */
const CACHE = 'loaxa-offline-v1';
const OFFLINE_PAGE = '/offline.html';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.add(new Request(OFFLINE_PAGE, { cache: 'reload' })))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('loaxa-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  // Page loads only; the API, media and the app's files go to the network as without a worker.
  if (event.request.mode !== 'navigate') return;
  event.respondWith(
    fetch(event.request).catch(async () => (await caches.match(OFFLINE_PAGE)) || new Response('Không có kết nối mạng', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } })),
  );
});

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const title = data.title || 'Loa Xã';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || '',
      tag: data.tag,
      lang: 'vi',
      icon: '/icon-192.png',
      badge: '/icon-192.png',
      // A path of this app only: `//host` or `/\\host` would open another site (review of issue 20).
      data: { url: typeof data.url === 'string' && /^\/(?![/\\])/.test(data.url) ? data.url : '/thong-bao' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || '/thong-bao', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin && 'focus' in w) return w.navigate(url).then((c) => (c || w).focus());
      }
      return self.clients.openWindow(url);
    }),
  );
});
