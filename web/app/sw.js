// The courier app's service worker: it keeps the app's files (the shell)
// so the app opens with no network. courierd fills in the version, a digest
// of the files: any change makes a new worker that caches the new set whole,
// and drops the old one. Requests to the API are never answered from here:
// the app keeps its own data in IndexedDB.
const VERSION = '__APP_VERSION__';
const CACHE = 'courier-app-' + VERSION;

// Every file the app needs, relative to /app/ (test/sw.test.mjs checks the
// list against the modules' imports).
const SHELL = [
  './',
  'app.css',
  'manifest.webmanifest',
  'icon.svg',
  'icon-192.png',
  'icon-512.png',
  'config.json',
  'src/api.js',
  'src/sse.js',
  'src/dom.js',
  'src/format.js',
  'src/i18n.js',
  'src/courier/main.js',
  'src/courier/chrome.js',
  'src/courier/code128.js',
  'src/courier/day.js',
  'src/courier/end.js',
  'src/courier/gps.js',
  'src/courier/home.js',
  'src/courier/icons.js',
  'src/courier/idb.js',
  'src/courier/login.js',
  'src/courier/model.js',
  'src/courier/parts.js',
  'src/courier/photo.js',
  'src/courier/queue.js',
  'src/courier/scanner.js',
  'src/courier/signature.js',
  'src/courier/stop.js',
  'src/courier/words.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((p) => new Request(p, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('courier-app-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return; // the API and the console go to the network
  if (req.mode === 'navigate') {
    // Every page of the app is the shell; the hash picks the screen.
    event.respondWith(fromCache(new URL('./', scope).href, req));
    return;
  }
  if (url.pathname === scope.pathname + 'config.json') {
    // The company's settings: fresh when online, the kept copy when not.
    event.respondWith(fetch(req).then((res) => {
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(url.href, copy));
      }
      return res;
    }).catch(() => caches.match(url.href, { cacheName: CACHE }).then((r) => r || Response.error())));
    return;
  }
  event.respondWith(fromCache(url.href, req));
});

/** The cached file, else the network (a file added since the install). */
async function fromCache(key, req) {
  const hit = await caches.match(key, { cacheName: CACHE, ignoreSearch: true });
  if (hit) return hit;
  return fetch(req);
}
