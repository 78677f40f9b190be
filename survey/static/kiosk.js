/* The kiosk's only script (no framework, nothing else fetched).
 *
 * Every rating goes into a queue in localStorage first, then is sent; a rating
 * is removed from the queue only once the server answered for it, so one made
 * while the Wi-Fi is down waits on the tablet and goes out when it returns. Its
 * submission id makes a resend harmless (stored once). The form is fresh again
 * right after Send, and after a minute without a touch: no answer stays on
 * screen for the next person. The phone form has no script; only the kiosk does.
 */
(function () {
  "use strict";
  var KEY = "kiosk.queue.v1", LAST = "kiosk.last.v1";
  var form = document.getElementById("kf");
  var queueNote = document.getElementById("queue");
  var sending = false, revoked = false, retryTimer = null;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(KEY, JSON.stringify(queue)); showQueue(queue); }
  function update(id, change) {
    save(load().map(function (item) { return item.submission_id === id ? change(item) : item; }));
  }
  function showQueue(queue) {
    if (!queueNote) return;
    queue = queue || load();
    queueNote.hidden = !queue.length;
    queueNote.textContent = queueNote.getAttribute("data-msg-queue").replace("{n}", queue.length);
  }
  function later(seconds) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, seconds * 1000);
  }

  /* Send the queue, oldest first, one at a time. */
  function flush() {
    if (sending) return;
    var queue = load();
    if (!queue.length) {
      showQueue(queue);
      if (revoked && form) location.reload();
      return;
    }
    sending = true;
    var item = queue[0];
    fetch("/kiosk/ratings", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(item)
    }).then(function (r) {
      sending = false;
      if (r.status === 429) {
        // Within the kiosk's gap: sent again later as made when it was made.
        update(item.submission_id, function (x) { x.offline = true; return x; });
        later(+r.headers.get("Retry-After") || 10);
        return;
      }
      if (r.status >= 500 || r.status === 401 || r.status === 408) {
        markOffline();
        later(20);
        return;
      }
      // Stored (201), stored before (200), stored for review (202), or refused
      // for good (409 another pairing, 422 not valid): done with it either way.
      if (r.status === 202) revoked = true;
      save(load().filter(function (x) { return x.submission_id !== item.submission_id; }));
      flush();
    }, function () {
      sending = false;
      markOffline();
      later(15);
    });
  }
  function markOffline() {
    save(load().map(function (x) { x.offline = true; return x; }));
  }
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  showQueue();
  flush();
  if (!form) return; // the pairing page only sends what a revoked tablet still held

  var data = form.dataset;
  var gap = +data.gap * 1000, idle = +data.idle * 1000;
  var low = (data.low || "").split(" ");
  var followUp = document.getElementById("fu");
  var missing = document.getElementById("missing");
  var toast = document.getElementById("toast");
  var serving = document.getElementById("serving");
  var sheet = document.getElementById("shift");
  var shiftForm = document.getElementById("sf");
  var shiftMsg = document.getElementById("shift-msg");
  var toastTimer = null, idleTimer = null;

  function uuid4() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function checked(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }
  function text(name) {
    var field = form.elements[name];
    return field ? field.value.trim() : "";
  }

  function fresh() {
    form.reset();
    if (followUp) followUp.hidden = true;
    missing.hidden = true;
    Array.prototype.forEach.call(form.querySelectorAll(".bad"), function (q) { q.classList.remove("bad"); });
    closeShift();
    window.scrollTo(0, 0);
    refresh();
  }

  form.addEventListener("change", function (e) {
    if (followUp && e.target.name === data.after) {
      followUp.hidden = low.indexOf(e.target.value) < 0;
      if (followUp.hidden) {
        Array.prototype.forEach.call(followUp.querySelectorAll("input"), function (i) { i.checked = false; });
        followUp.querySelector("textarea").value = "";
      }
    }
    var q = e.target.closest(".q");
    if (q) q.classList.remove("bad");
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var answers = {}, first = null;
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-q]"), function (q) {
      var value = checked(q.dataset.q);
      if (value) answers[q.dataset.q] = value;
      else if (q.hasAttribute("data-required")) {
        q.classList.add("bad");
        first = first || q;
      }
    });
    if (first) {
      missing.textContent = data.msgMissing;
      missing.hidden = false;
      first.scrollIntoView();
      return;
    }
    var now = Date.now();
    if (now - (+localStorage.getItem(LAST) || 0) < gap) {
      missing.textContent = data.msgWait;
      missing.hidden = false;
      return;
    }
    var isLow = followUp && !followUp.hidden;
    var queue = load();
    queue.push({
      submission_id: uuid4(),
      questionnaire_version: +data.version,
      kiosk: +data.kiosk,
      answers: answers,
      comment: text("comment"),
      reason: isLow ? checked("reason") : "",
      reason_text: isLow ? text("reason_text") : "",
      language: data.lang,
      made_at: now,
      offline: navigator.onLine === false
    });
    save(queue);
    localStorage.setItem(LAST, String(now));
    fresh();
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, 2500);
    flush();
  });

  /* Who is serving, and who may start a shift (after each rating and when idle). */
  function refresh() {
    fetch("/kiosk/state", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 403) { revoked = true; flush(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (state) { if (state) show(state); }, function () {});
  }
  function show(state) {
    serving.textContent = state.serving ? serving.dataset.msgServing.replace("{name}", state.serving) : "";
    var list = document.getElementById("shift-officers");
    var chosen = list.querySelector("input:checked"); // kept if the list arrives after a tap
    chosen = chosen ? chosen.value : "";
    list.textContent = "";
    state.officers.forEach(function (o) {
      var label = document.createElement("label"), input = document.createElement("input"), span = document.createElement("span");
      label.className = "opt";
      input.type = "radio";
      input.name = "officer";
      input.value = o.id;
      input.checked = String(o.id) === chosen;
      span.textContent = o.name;
      label.appendChild(input);
      label.appendChild(span);
      list.appendChild(label);
    });
    document.getElementById("shift-none").hidden = state.officers.length > 0;
  }

  function closeShift() {
    sheet.hidden = true;
    shiftForm.reset();
    shiftMsg.hidden = true;
  }
  function shiftPost(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (answer) {
        if (r.ok) {
          show(answer);
          closeShift();
        } else {
          shiftForm.elements.pin.value = "";
          shiftMsg.textContent = answer.message;
          shiftMsg.hidden = false;
        }
      });
    }, function () {});
  }
  document.getElementById("shift-open").addEventListener("click", function () {
    sheet.hidden = false;
    refresh(); // a shift started from a phone since, or a PIN just set
  });
  document.getElementById("shift-close").addEventListener("click", closeShift);
  document.getElementById("shift-end").addEventListener("click", function () {
    shiftPost("/kiosk/shift/end", {});
  });
  shiftForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var officer = shiftForm.querySelector("input[name=officer]:checked");
    shiftPost("/kiosk/shift", { officer: officer ? +officer.value : null, pin: shiftForm.elements.pin.value });
  });

  /* A minute without a touch: a fresh form for the next person. */
  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { fresh(); touched(); }, idle);
  }
  ["pointerdown", "keydown", "input"].forEach(function (type) {
    document.addEventListener(type, touched, { passive: true });
  });
  touched();
})();
