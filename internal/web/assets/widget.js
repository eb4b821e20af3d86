// Thunaivi website chat. Embed with:
//   <script src="https://support.example.com/widget/v1/thunaivi.js"
//           data-widget-token="thv_wt_..." defer></script>
// The widget token only opens conversations in one inbox; each visitor gets a
// token of their own for their conversation, kept in this browser.
(function () {
  "use strict";
  var script = document.currentScript;
  var token = script && script.getAttribute("data-widget-token");
  if (!token) { return; }
  var base = new URL(script.src).origin;
  var storeKey = "thunaivi:" + token;
  var state = JSON.parse(localStorage.getItem(storeKey) || "null");
  var seen = {};

  var root = document.createElement("div");
  root.id = "thunaivi-chat";
  root.innerHTML =
    '<button type="button" class="thv-open" aria-expanded="false">Chat with us</button>' +
    '<section class="thv-panel" hidden aria-label="Chat">' +
    '<header>Support chat</header>' +
    '<ol class="thv-log" aria-live="polite"></ol>' +
    '<p class="thv-status" role="status"></p>' +
    '<form class="thv-form"><textarea name="text" rows="2" maxlength="16000" ' +
    'placeholder="Type your message" aria-label="Message"></textarea>' +
    '<button type="submit">Send</button></form></section>';
  var css = document.createElement("style");
  css.textContent =
    "#thunaivi-chat{position:fixed;right:20px;bottom:20px;font:14px/1.4 system-ui,sans-serif;z-index:2147483000}" +
    "#thunaivi-chat .thv-open{background:#1f4ed8;color:#fff;border:0;border-radius:20px;padding:10px 18px;cursor:pointer}" +
    "#thunaivi-chat .thv-panel{width:340px;height:460px;display:flex;flex-direction:column;background:#fff;border:1px solid #ccd;border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.15);margin-bottom:8px}" +
    "#thunaivi-chat .thv-panel[hidden]{display:none}" +
    "#thunaivi-chat header{padding:10px 14px;background:#1f4ed8;color:#fff;border-radius:10px 10px 0 0;font-weight:600}" +
    "#thunaivi-chat .thv-log{flex:1;overflow-y:auto;margin:0;padding:10px;list-style:none}" +
    "#thunaivi-chat .thv-log li{margin:6px 0;padding:8px 10px;border-radius:8px;max-width:85%;white-space:pre-wrap;word-wrap:break-word}" +
    "#thunaivi-chat .thv-customer{background:#e7edff;margin-left:auto!important}" +
    "#thunaivi-chat .thv-ai,#thunaivi-chat .thv-agent,#thunaivi-chat .thv-system{background:#f1f1f4}" +
    "#thunaivi-chat .thv-who{display:block;font-size:11px;color:#667}" +
    "#thunaivi-chat .thv-status{margin:0 10px;color:#556;font-size:12px;min-height:1em}" +
    "#thunaivi-chat form{display:flex;gap:6px;padding:8px;border-top:1px solid #eee}" +
    "#thunaivi-chat textarea{flex:1;resize:none;font:inherit;padding:6px}" +
    "#thunaivi-chat form button{background:#1f4ed8;color:#fff;border:0;border-radius:6px;padding:0 14px}";
  document.head.appendChild(css);
  document.body.appendChild(root);

  var panel = root.querySelector(".thv-panel");
  var openBtn = root.querySelector(".thv-open");
  var log = root.querySelector(".thv-log");
  var statusLine = root.querySelector(".thv-status");
  var form = root.querySelector(".thv-form");
  var who = { customer: "You", ai: "Assistant", agent: "Support team", system: "Support" };

  function headers() {
    var h = { "Content-Type": "application/json", "X-Widget-Token": token };
    if (state) { h["X-Visitor-Token"] = state.visitor_token; }
    return h;
  }

  function call(method, path, body) {
    return fetch(base + path, { method: method, headers: headers(),
      body: body ? JSON.stringify(body) : undefined }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) { throw new Error(data.message || "Request failed"); }
        return data;
      });
    });
  }

  function show(m) {
    if (seen[m.id]) { return; }
    seen[m.id] = true;
    var li = document.createElement("li");
    li.className = "thv-" + m.author_type;
    var label = document.createElement("span");
    label.className = "thv-who";
    label.textContent = who[m.author_type] || "";
    li.appendChild(label);
    li.appendChild(document.createTextNode(m.body));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  var outcomes = {
    answer: "",
    draft: "A member of our team is checking the answer and will reply here shortly.",
    handoff: "A member of our team will reply here."
  };

  // Server-Sent Events over fetch, so that the tokens travel in headers.
  function listen() {
    var path = "/widget/v1/conversations/" + state.conversation_id + "/events";
    return fetch(base + path, { headers: headers() }).then(function (res) {
      if (!res.ok || !res.body) { throw new Error("stream refused"); }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buf = "";
      var ready;
      var readyPromise = new Promise(function (resolve) { ready = resolve; });
      (function pump() {
        reader.read().then(function (chunk) {
          if (chunk.done) { setTimeout(reconnect, 2000); return; }
          buf += decoder.decode(chunk.value, { stream: true });
          var parts = buf.split("\n\n");
          buf = parts.pop();
          parts.forEach(function (block) {
            var type = "", data = "";
            block.split("\n").forEach(function (line) {
              if (line.indexOf("event: ") === 0) { type = line.slice(7); }
              if (line.indexOf("data: ") === 0) { data += line.slice(6); }
            });
            if (type === "ready") { ready(); return; }
            if (!data) { return; }
            var ev = JSON.parse(data);
            if (type === "message") { show(ev.message); }
            if (type === "routed") { statusLine.textContent = outcomes[ev.routed.outcome] || ""; }
          });
          pump();
        }, function () { setTimeout(reconnect, 2000); });
      })();
      return readyPromise;
    });
  }

  function reconnect() {
    return call("GET", "/widget/v1/conversations/" + state.conversation_id + "/messages")
      .then(function (data) { data.messages.forEach(show); return listen(); })
      .catch(function () { setTimeout(reconnect, 5000); });
  }

  function ensureConversation() {
    if (state) { return Promise.resolve(); }
    return call("POST", "/widget/v1/conversations").then(function (v) {
      state = v;
      localStorage.setItem(storeKey, JSON.stringify(v));
      return listen();
    });
  }

  openBtn.addEventListener("click", function () {
    var opening = panel.hidden;
    panel.hidden = !opening;
    openBtn.setAttribute("aria-expanded", String(opening));
    openBtn.textContent = opening ? "Close chat" : "Chat with us";
    if (opening) { form.text.focus(); }
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = form.text.value.trim();
    if (!text) { return; }
    form.text.value = "";
    statusLine.textContent = "Sending…";
    ensureConversation().then(function () {
      return call("POST", "/widget/v1/conversations/" + state.conversation_id + "/messages",
        { text: text });
    }).then(function (res) {
      show(res.message);
      if (res.reply) { show(res.reply); }
      statusLine.textContent = outcomes[res.outcome] || "";
    }).catch(function (err) {
      statusLine.textContent = err.message;
      form.text.value = text;
    });
  });

  form.text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  if (state) { reconnect(); }
})();
