// Offline: the app shell and every view's code are precached; tiles, glyphs and parcel cards
// are kept as they are fetched, so the last viewed area and cards still show without a network.
// The build writes the views' chunk names and this build's id below.
const SHELL = "civicmap-shell-__BUILD__";
const DATA = "civicmap-data-v1";
const SHELL_FILES = ["/", "/app.js", "/app.css", "/maplibre-gl-worker.mjs",
  "/maplibre-gl-shared.mjs", "/manifest.webmanifest", "/icon.svg", /* CHUNKS */];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k !== SHELL && k !== DATA).map((k) => caches.delete(k)))));
  self.clients.claim();
});

async function networkFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch {
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw new Error("offline and not cached");
  }
}

// A chunk's name carries its content's hash: what is cached is what is asked for.
async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request, { ignoreVary: true });
  return cached ?? networkFirst(request, SHELL);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The app lives at "/" (its routes are in the hash); other pages (the payment gateway's and
  // the way back from it, the API's docs) are the server's to answer.
  if (event.request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(networkFirst(new Request("/"), SHELL));
  } else if (SHELL_FILES.includes(url.pathname) && /-[A-Z0-9]{8}\.js$/.test(url.pathname)) {
    event.respondWith(cacheFirst(event.request));
  } else if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(networkFirst(event.request, SHELL));
  } else if (/^\/(tiles|fonts|styles|api\/parcels)\//.test(url.pathname)) {
    event.respondWith(networkFirst(event.request, DATA));
  }
});

// Web Push: the platform's notices (reminders, assignments) on an officer's phone. The message
// is {title, body, url}; a tap opens the app at its route.
self.addEventListener("push", (event) => {
  let message = { title: "civicmap", body: "", url: "#/office" };
  try {
    message = { ...message, ...event.data.json() };
  } catch {
    message.body = event.data ? event.data.text() : "";
  }
  event.waitUntil(self.registration.showNotification(message.title, {
    body: message.body, icon: "/icon.svg", data: { url: message.url }, lang: "vi",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(`/${event.notification.data?.url ?? ""}`, self.location.origin).href;
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const here = open.find((c) => new URL(c.url).origin === self.location.origin);
    if (here) {
      await here.focus();
      return here.navigate(url);
    }
    return self.clients.openWindow(url);
  })());
});
