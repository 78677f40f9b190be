// The paper-ballot entry screen with the keyboard alone (survey/paper). Without this
// script the screen is a plain form; with it:
// - a complete serial (a desk's code, 5 digits, the right check character) moves the
//   focus to the first answer by itself; Enter there does too (a QR scanner types the
//   ballot's address and Enter: the serial is read from its end);
// - one keystroke per answer: the key is taken and the focus moves to the next
//   question (after the last one, to the comment); Backspace goes back;
// - Enter saves: the form is posted in the background and emptied at once for the
//   next ballot; the outcome is announced, and on a refusal the ballot comes back.
(function () {
  "use strict";
  var form = document.querySelector("form[data-paper-entry]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var serial = form.querySelector("#serial");
  var keys = Array.prototype.slice.call(form.querySelectorAll("input.key"));
  var comment = form.querySelector("#comment");
  var statusBox = document.getElementById("entry-status");
  var log = document.getElementById("entry-log");
  var desks = (form.getAttribute("data-desks") || "").split(" ").filter(Boolean);
  var ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  function keyOf(text) {
    var m = /\/p\/([A-Za-z0-9-]+)\/?$/.exec(text.trim());
    if (m) { text = m[1]; }
    return text.toUpperCase().split("").filter(function (c) { return ALPHABET.indexOf(c) >= 0; }).join("");
  }
  // The check of survey/domain/ballots.py: the weighted sum of the characters
  // (weights 1, 2, … 36, 1, …) is divisible by 37.
  function valid(key) {
    var total = 0;
    for (var i = 0; i < key.length; i++) { total += (i % 36 + 1) * ALPHABET.indexOf(key[i]); }
    return key.length > 1 && total % 37 === 0;
  }
  function complete(key) {
    return valid(key) && desks.some(function (d) {
      return key.length === d.length + 6 && key.indexOf(d) === 0 && /^\d{5}$/.test(key.substr(d.length, 5));
    });
  }
  function next(el) {
    var i = keys.indexOf(el);
    return i < keys.length - 1 ? keys[i + 1] : (comment || form.querySelector("#entry-submit"));
  }
  function labelOf(input, key) {
    var row = document.getElementById("k_" + input.id.slice(2));
    var item = row && row.querySelector('[data-key="' + (key === "n" ? "0" : key) + '"]');
    return item ? item.textContent : key;
  }
  function show(input) {
    var li = input.closest("li");
    li.classList.toggle("done", input.value !== "");
    li.classList.remove("wrong");
    input.removeAttribute("aria-invalid");
  }

  serial.addEventListener("input", function () {
    if (complete(keyOf(serial.value))) { keys[0].focus(); }
  });
  serial.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      var m = /\/p\/([A-Za-z0-9-]+)\/?$/.exec(serial.value.trim());
      if (m) { serial.value = m[1]; }
      keys[0].focus();
    }
  });
  keys.forEach(function (input) {
    var allowed = input.getAttribute("data-keys") || "";
    input.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.altKey || e.metaKey || e.key === "Tab") { return; }
      if (e.key === "Enter") { return; }  // submits the form
      if (e.key === "Backspace") {
        e.preventDefault();
        if (input.value === "") {
          var i = keys.indexOf(input);
          (i > 0 ? keys[i - 1] : serial).focus();
        } else {
          input.value = "";
          show(input);
        }
        return;
      }
      if (e.key.length !== 1) { return; }  // arrows, Home, …
      e.preventDefault();
      var k = e.key.toLowerCase();
      if (allowed.indexOf(k) < 0 && !(k === " " && !input.hasAttribute("data-required"))) {
        input.closest("li").classList.add("wrong");
        input.setAttribute("aria-invalid", "true");
        statusBox.textContent = (form.getAttribute("data-bad-key") || "").replace("{key}", e.key);
        return;
      }
      input.value = k === " " ? "" : k;
      input.title = labelOf(input, k);
      show(input);
      next(input).focus();
    });
  });
  if (comment) {
    comment.addEventListener("keydown", function (e) {
      if (e.key === "Backspace" && comment.value === "") { e.preventDefault(); keys[keys.length - 1].focus(); }
    });
  }

  function snapshot() {
    var values = { serial: serial.value, comment: comment ? comment.value : "" };
    keys.forEach(function (k) { values[k.id] = k.value; });
    return values;
  }
  function fill(values) {
    serial.value = values.serial;
    if (comment) { comment.value = values.comment; }
    keys.forEach(function (k) { k.value = values[k.id] || ""; show(k); });
  }
  function clear() {
    fill({ serial: "", comment: "" });
    keys.forEach(function (k) { k.title = ""; });
  }
  function announce(ok, message) {
    statusBox.textContent = message;
    statusBox.className = "entry-status " + (ok ? "ok" : "error");
    statusBox.setAttribute("role", ok ? "status" : "alert");
    var item = document.createElement("li");
    item.textContent = message;
    item.className = ok ? "ok" : "error";
    log.insertBefore(item, log.firstChild);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var missing = keys.filter(function (k) { return k.hasAttribute("data-required") && k.value === ""; });
    if (missing.length) {
      missing.forEach(function (k) { k.closest("li").classList.add("wrong"); });
      missing[0].focus();
      return;
    }
    var data = new FormData(form);
    var sent = snapshot();
    clear();
    serial.focus();
    form.setAttribute("data-pending", String(Number(form.getAttribute("data-pending") || 0) + 1));
    fetch(form.action || window.location.href, {
      method: "POST",
      body: data,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        return { ok: false, message: form.getAttribute("data-failed") || ("HTTP " + response.status), field: "serial" };
      }
      return response.json();
    }).catch(function () {
      return { ok: false, message: form.getAttribute("data-offline") || "—", field: "serial" };
    }).then(function (result) {
      var details = (result.problems || []).map(function (p) { return p.message; }).join(" ");
      announce(result.ok, details ? result.message + " " + details : result.message);
      if (!result.ok) {
        // Give the refused ballot back, unless the next one is already being typed.
        var untouched = serial.value === "" && keys.every(function (k) { return k.value === ""; });
        if (untouched) {
          fill(sent);
          (result.problems || []).forEach(function (p) {
            var input = document.getElementById(p.field);
            if (input) { input.closest("li").classList.add("wrong"); input.setAttribute("aria-invalid", "true"); }
          });
          var target = document.getElementById(result.field || "serial") || serial;
          target.focus();
          if (target.select) { target.select(); }
        }
      }
      form.setAttribute("data-pending", String(Number(form.getAttribute("data-pending")) - 1));
      form.setAttribute("data-done", String(Number(form.getAttribute("data-done") || 0) + 1));
    });
  });
})();
