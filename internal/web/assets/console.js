// Live updates for the console: when something changes in what this page
// shows, fetch the page again and swap in its live part. Forms stay as they
// are, so nothing being typed is lost.
(function () {
  "use strict";
  var source = document.querySelector("[data-events]");
  if (!source || !window.EventSource) { return; }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    setTimeout(function () {
      fetch(location.href, { credentials: "same-origin" }).then(function (res) {
        return res.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll(".live[id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) { el.innerHTML = fresh.innerHTML; }
        });
      }).finally(function () { pending = false; });
    }, 150);
  }
  var es = new EventSource(source.getAttribute("data-events"));
  ["message", "conversation", "routed"].forEach(function (t) {
    es.addEventListener(t, refresh);
  });
})();
