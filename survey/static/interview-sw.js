// The interview screen's service worker (served as /interview/sw.js, scope /interview/):
// it keeps the last copy of the screen and of the files it uses, so that the screen
// opens again without a connection. Always the network first, so an interviewer online
// sees today's assignments; interviews themselves are never cached here (the screen's
// script keeps them in the device's storage until the server has them).
var CACHE = "sipas-interview-1";
var SCREEN = new URL("./", self.registration.scope).pathname;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var screen = url.pathname === SCREEN;
  if (!screen && url.pathname.indexOf("/static/") !== 0) { return; }
  var key = screen ? SCREEN : request;
  event.respondWith(fetch(request).then(function (response) {
    // Not a sign-in page reached by a redirect, nor an error.
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (cached) { return cached || Response.error(); });
  }));
});
