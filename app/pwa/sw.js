// The service worker (app/pwa/build.mjs prepends VERSION, PRECACHE and CLASSIFIERS): after one
// visit the app starts and works with the network off.
//
// - Install: fetch every built file the app needs into a cache named by the build's version: the
//   page, the parsing worker, the weights, and the one classifier worker this browser uses (the
//   page registers `sw.js?classifier=gpu` or `cpu`; the WebGPU one is most of the bytes, and a
//   browser without WebGPU never needs it). A failed fetch fails the install, so a half-cached
//   build never takes over.
// - No skipWaiting on install: a new build waits until the page asks for it ("reload to
//   update"), so it is never swapped under an open file.
// - Activate: claim the open pages (the first visit works offline at once) and drop the caches
//   of older builds.
// - Fetch: built files from the cache, a navigation gets the cached page; the API and anything
//   not precached go to the network untouched.
const classifier = new URL(self.location.href).searchParams.get('classifier');
const CACHE = `waferscope-${VERSION}-${classifier}`;
const scope = new URL(self.registration.scope);
// One spelling per URL: no fragment, no empty query parts (gloo-net asks for `?v=<sha>&`).
const normal = (href) => {
  const u = new URL(href, scope);
  u.hash = '';
  u.search = new URLSearchParams([...u.searchParams].filter(([k]) => k)).toString();
  return u.href;
};
const urls = new Set([...PRECACHE, ...(CLASSIFIERS[classifier] ?? [])].map(normal));
const page = normal(scope.href);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all([...urls].map(async (u) => {
      // `reload`: straight from the network, never from the HTTP cache of an older build.
      const res = await fetch(new Request(u, { cache: 'reload' }));
      if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
      // A response that came through a redirect cannot answer a navigation: keep its body only.
      await cache.put(u, res.redirected
        ? new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers: res.headers })
        : res);
    }));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('waferscope-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'waferscope:update') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== scope.origin || url.pathname.startsWith('/api/')) return;
  const key = req.mode === 'navigate' && url.pathname === scope.pathname ? page : normal(url.href);
  if (req.mode !== 'navigate' && !urls.has(key)) return;
  event.respondWith((async () => {
    const hit = await caches.match(key, { cacheName: CACHE });
    return hit ?? fetch(req);
  })());
});
