// The console's small helpers: times in the reader's own time zone,
// Ctrl+Enter to send a form, and live updates. When something changes in what
// a page shows, the page is fetched again and its live parts swapped in;
// forms outside them stay as they are, and what was typed into a field inside
// them is carried over, so nothing being typed is lost.
(function () {
  "use strict";

  var timeFormat = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
  });
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      el.textContent = timeFormat.format(d);
      el.title = d.toLocaleString();
    });
  }
  localTimes(document);

  document.addEventListener("keydown", function (e) {
    var form = e.target.form;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.tagName === "TEXTAREA" &&
        form) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // edits returns the fields of el whose value the user changed, keyed by
  // their form's action and their name.
  function edits(el) {
    var out = {};
    el.querySelectorAll("textarea, input:not([type=hidden])").forEach(function (f) {
      if (f.form && f.value !== f.defaultValue) { out[f.form.action + " " + f.name] = f.value; }
    });
    return out;
  }

  function restore(el, saved) {
    el.querySelectorAll("textarea, input:not([type=hidden])").forEach(function (f) {
      var key = f.form && f.form.action + " " + f.name;
      if (key && Object.prototype.hasOwnProperty.call(saved, key)) { f.value = saved[key]; }
    });
  }

  var source = document.querySelector("[data-events]");
  if (!source || !window.EventSource) { return; }
  // running is true while a refresh is under way; again asks for one more
  // after it, for changes that came in while it ran.
  var running = false, again = false;
  function refresh() {
    if (running) { again = true; return; }
    running = true;
    setTimeout(function () {
      fetch(location.href, { credentials: "same-origin" }).then(function (res) {
        if (!res.ok) { throw new Error("refresh failed: " + res.status); }
        return res.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll(".live[id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh) { return; }
          var saved = edits(el);
          el.innerHTML = fresh.innerHTML;
          restore(el, saved);
          localTimes(el);
        });
      }).catch(function () {}).finally(function () {
        running = false;
        if (again) { again = false; refresh(); }
      });
    }, 150);
  }
  var es = new EventSource(source.getAttribute("data-events"));
  ["message", "conversation", "routed"].forEach(function (t) {
    es.addEventListener(t, refresh);
  });
  // After a reconnection, catch up on whatever happened while away.
  var connected = false;
  es.addEventListener("ready", function () {
    if (connected) { refresh(); }
    connected = true;
  });
})();
