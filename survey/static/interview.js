// The interviewer's screen (survey/interviews): each saved interview goes first into
// this device's storage (localStorage), then to the server; it leaves the storage only
// once the server has answered that it is stored. Its submission id is made here, so a
// send repeated after a lost answer is stored once. Offline, interviews wait and are
// sent when the connection comes back (the "online" event, every 30 s, or "Send now").
(function () {
  "use strict";
  var app = document.getElementById("interview-app");
  if (!app) { return; }
  var texts = JSON.parse(document.getElementById("interview-texts").textContent);
  var QUEUE = "sipas.interviews." + app.dataset.officer;
  var REFUSED = QUEUE + ".refused";
  var csrf = app.dataset.csrf;
  var sending = false;
  var signedOut = false;
  var current = null;

  function $(id) { return document.getElementById(id); }
  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function store(key, items) { localStorage.setItem(key, JSON.stringify(items)); }
  function without(key, id) {
    store(key, load(key).filter(function (item) { return item.submission_id !== id; }));
  }
  // A version 4 UUID from the browser's random numbers (crypto.randomUUID needs HTTPS).
  function uuid4() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function render() {
    var queue = load(QUEUE);
    $("net").textContent = navigator.onLine ? texts.online : texts.offline;
    $("net").className = navigator.onLine ? "online" : "offline";
    $("queue").textContent = queue.length ? texts.waiting.replace("{n}", queue.length) : texts.nothing;
    $("queue").dataset.count = String(queue.length);
    $("send-now").hidden = !queue.length;
    $("signed-out").hidden = !signedOut;
    var box = $("refused");
    box.textContent = "";
    load(REFUSED).forEach(function (item) {
      var p = document.createElement("div");
      p.className = "notice refused";
      var strong = document.createElement("strong");
      strong.textContent = texts.refused + ": ";
      p.appendChild(strong);
      p.appendChild(document.createTextNode(item.message + " (" + item.desk + ", " +
        new Date(item.started_at).toLocaleString() + ")"));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.textContent = texts.remove;
      remove.addEventListener("click", function () { without(REFUSED, item.submission_id); render(); });
      p.appendChild(document.createTextNode(" "));
      p.appendChild(remove);
      box.appendChild(p);
    });
  }

  function body(item) {
    var params = new URLSearchParams();
    item.fields.forEach(function (pair) { params.append(pair[0], pair[1]); });
    params.append("submission_id", item.submission_id);
    params.append("questionnaire_version", item.version);
    params.append("desk", item.desk);
    params.append("started_at", String(item.started_at));
    params.append("duration_seconds", String(item.duration_seconds));
    params.append("csrf_token", csrf);
    return params;
  }

  function post(item) {
    return fetch(app.dataset.sendUrl, {
      method: "POST", body: body(item), credentials: "same-origin",
      headers: { "Accept": "application/json" }, redirect: "manual", cache: "no-store"
    });
  }

  async function refreshToken() {
    var reply = await fetch(app.dataset.tokenUrl, {
      credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" }
    });
    if (reply.status === 401) { signedOut = true; return false; }
    csrf = (await reply.json()).csrf_token;
    return true;
  }

  async function sendOne(item) {
    var reply = await post(item);
    if (reply.status === 400) {
      var problem = await reply.json().catch(function () { return {}; });
      if (problem.error === "csrf" && await refreshToken()) { reply = await post(item); }
    }
    if (reply.status === 401 || reply.type === "opaqueredirect") { signedOut = true; return "stop"; }
    signedOut = false;
    if (reply.status === 200 || reply.status === 201) { return "done"; }
    if (reply.status === 403 || reply.status === 409 || reply.status === 422) {
      var answer = await reply.json().catch(function () { return {}; });
      // Kept on the device with the server's reason, never sent again by itself.
      var refused = load(REFUSED);
      refused.push(Object.assign({}, item, { message: answer.message || String(reply.status) }));
      store(REFUSED, refused);
      return "done";
    }
    return "stop";  // the server is unwell: try again later
  }

  async function flush() {
    if (sending) { return; }
    sending = true;
    try {
      var queue = load(QUEUE);
      for (var i = 0; i < queue.length; i++) {
        var outcome;
        try { outcome = await sendOne(queue[i]); } catch (e) { break; }  // offline
        if (outcome === "stop") { break; }
        without(QUEUE, queue[i].submission_id);
      }
    } finally {
      sending = false;
      render();
    }
  }

  var form = $("interview-form");
  if (form) {
    $("start-button").addEventListener("click", function () {
      var select = $("desk");
      current = { desk: select.value, label: select.options[select.selectedIndex].text, started: Date.now() };
      $("where").textContent = texts.where.replace("{desk}", current.label);
      $("start").hidden = true;
      $("saved").hidden = true;
      form.hidden = false;
      form.querySelector("input, textarea").focus();
    });
    $("cancel-button").addEventListener("click", function () {
      if (!window.confirm(texts.confirm_cancel)) { return; }
      form.reset();
      form.hidden = true;
      $("start").hidden = false;
      current = null;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // Checked here: offline, the server cannot say what is missing until the
      // citizen has gone.
      var missing = [];
      form.querySelectorAll("fieldset[data-required]").forEach(function (set) {
        var answered = set.querySelector("input:checked") !== null;
        set.classList.toggle("bad", !answered);
        set.querySelector(".err").hidden = answered;
        if (!answered) { missing.push(set); }
      });
      $("missing").hidden = !missing.length;
      if (missing.length) { missing[0].scrollIntoView(); missing[0].querySelector("input").focus(); return; }
      var fields = [];
      new FormData(form).forEach(function (value, name) { fields.push([name, value]); });
      var queue = load(QUEUE);
      queue.push({
        submission_id: uuid4(), version: app.dataset.version, desk: current.desk,
        started_at: current.started, duration_seconds: Math.round((Date.now() - current.started) / 1000),
        fields: fields
      });
      store(QUEUE, queue);
      form.reset();
      form.hidden = true;
      $("start").hidden = false;
      current = null;
      $("saved").textContent = texts.saved;
      $("saved").hidden = false;
      $("saved").focus();
      render();
      flush();
    });
  }

  // Signing out removes the screen's offline copy (it names the interviewer and their
  // assignments); interviews waiting to be sent stay, for the next sign-in here.
  $("logout").addEventListener("submit", function (event) {
    if (!window.caches) { return; }
    event.preventDefault();
    var form = event.target;
    caches.delete("sipas-interview-1").catch(function () {}).then(function () { form.submit(); });
  });
  $("send-now").addEventListener("click", flush);
  window.addEventListener("online", function () { render(); flush(); });
  window.addEventListener("offline", render);
  window.addEventListener("beforeunload", function (event) {
    if (load(QUEUE).length && !navigator.onLine) { event.preventDefault(); event.returnValue = texts.leave; }
  });
  setInterval(flush, 30000);
  // The service worker keeps this screen for a reload without a connection
  // (browsers allow it on HTTPS and on localhost only).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(app.dataset.swUrl, { scope: app.dataset.scope }).catch(function () {});
  }
  render();
  flush();
}());
