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
    '<section class="thv-panel" id="thunaivi-chat-panel" hidden aria-label="Support chat">' +
    '<header><span>Support chat</span>' +
    '<button type="button" class="thv-close" aria-label="Close chat">\u00d7</button></header>' +
    '<ol class="thv-log" role="log" aria-live="polite"></ol>' +
    '<p class="thv-status" role="status"></p>' +
    '<form class="thv-form"><input type="email" name="email" class="thv-email" ' +
    'maxlength="254" placeholder="Your email (optional), for our reply" ' +
    'aria-label="Your email (optional)"><textarea name="text" rows="2" maxlength="16000" ' +
    'placeholder="Type your message" aria-label="Message"></textarea>' +
    '<input type="file" name="file" class="thv-file" hidden ' +
    'accept=".png,.jpg,.jpeg,.gif,.webp,.pdf,.txt,.csv">' +
    '<button type="button" class="thv-attach" aria-label="Attach a file" ' +
    'title="Attach a file: an image, a PDF or a text file">+</button>' +
    '<button type="submit">Send</button></form>' +
    '<form class="thv-rating" hidden><p class="thv-ask" id="thv-ask">How did we do?</p>' +
    '<span class="thv-scores" role="group" aria-labelledby="thv-ask">' +
    [1, 2, 3, 4, 5].map(function (n) {
      return '<button type="button" data-score="' + n + '" aria-pressed="false" ' +
        'aria-label="' + n + ' out of 5">' + n + '</button>';
    }).join("") + '</span>' +
    '<textarea name="comment" rows="2" maxlength="2000" aria-label="Comment" ' +
    'placeholder="Tell us more (optional)"></textarea>' +
    '<button type="submit">Send rating</button></form>' +
    '<details class="thv-data"><summary>Your data</summary>' +
    '<p>Ask for a copy of what we hold on you from this chat, for its deletion, or ' +
    'both. Our team confirms it within 30 days.</p>' +
    '<label><input type="checkbox" name="kind" value="access"> A copy of my data</label> ' +
    '<label><input type="checkbox" name="kind" value="deletion"> Delete my data</label> ' +
    '<button type="button" class="thv-data-send">Send my request</button>' +
    '<p class="thv-data-status" role="status"></p></details>' +
    '</section>' +
    '<button type="button" class="thv-open" aria-expanded="false" ' +
    'aria-controls="thunaivi-chat-panel">Chat with us</button>';
  // The styles come from the product's own origin, so a site whose content
  // security policy forbids inline styles only needs to allow that origin.
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "/widget/v1/thunaivi.css";
  document.head.appendChild(css);
  document.body.appendChild(root);

  var panel = root.querySelector(".thv-panel");
  var openBtn = root.querySelector(".thv-open");
  var log = root.querySelector(".thv-log");
  var statusLine = root.querySelector(".thv-status");
  var form = root.querySelector(".thv-form");
  var closeBtn = root.querySelector(".thv-close");
  var rating = root.querySelector(".thv-rating");
  var dataBox = root.querySelector(".thv-data");
  var score = 0;
  var who = { customer: "You", ai: "AI assistant", agent: "Support team", system: "Support" };

  var hello = document.createElement("li");
  hello.className = "thv-hello";
  hello.textContent = "Hello! Ask us anything. Our assistant answers common questions " +
    "right away, and a member of our team takes over whenever needed.";
  log.appendChild(hello);

  function headers() {
    var h = { "Content-Type": "application/json", "X-Widget-Token": token };
    if (state) { h["X-Visitor-Token"] = state.visitor_token; }
    return h;
  }

  function call(method, path, body) {
    return fetch(base + path, { method: method, headers: headers(),
      body: body ? JSON.stringify(body) : undefined }).then(answer, offline);
  }

  // answer reads a JSON answer, and turns an error answer into an error
  // that carries the server's words and status.
  function answer(res) {
    return res.json().catch(function () { return {}; }).then(function (data) {
      if (!res.ok) {
        var err = new Error((data.error && data.error.message) ||
          "The message could not be sent. Try again.");
        err.status = res.status;
        throw err;
      }
      return data;
    });
  }

  function offline() {
    throw new Error("No connection. Check your network and try again.");
  }

  function filePath(id) {
    return "/widget/v1/conversations/" + state.conversation_id + "/attachments/" +
      encodeURIComponent(id);
  }

  // download fetches a file with the visitor's tokens, which a plain link
  // cannot carry, and saves it under its name.
  function download(a) {
    fetch(base + filePath(a.id), { headers: headers() }).then(function (res) {
      if (!res.ok) { throw new Error("The file could not be downloaded."); }
      return res.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var link = document.createElement("a");
      link.href = url;
      link.download = a.name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }).catch(function (err) { statusLine.textContent = err.message; });
  }

  // files adds a message's files to its entry in the thread, as links that
  // download them.
  function files(li, m) {
    (m.attachments || []).forEach(function (a) {
      var link = document.createElement("a");
      link.className = "thv-file-link";
      link.href = "#";
      link.textContent = a.name;
      link.addEventListener("click", function (e) { e.preventDefault(); download(a); });
      li.appendChild(link);
    });
    if (m.attachments_removed) {
      var gone = document.createElement("span");
      gone.className = "thv-file-removed";
      gone.textContent = "File removed";
      li.appendChild(gone);
    }
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
    var list = m.attachments || [];
    // A file sent without a caption has its name for text; the link says it.
    if (!(list.length === 1 && list[0].name === m.body)) {
      li.appendChild(document.createTextNode(m.body));
    }
    files(li, m);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    // An answer from the team or an approved draft ends the wait.
    if (m.author_type === "agent" || m.author_type === "ai") { statusLine.textContent = ""; }
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
            if (type === "resolved") { askRating(); }
          });
          pump();
        }, function () { setTimeout(reconnect, 2000); });
      })();
      return readyPromise;
    });
  }

  function reconnect() {
    if (!state) { return Promise.resolve(); }
    return call("GET", "/widget/v1/conversations/" + state.conversation_id + "/messages")
      .then(function (data) { data.messages.forEach(show); askRating(); return listen(); })
      .catch(function (err) {
        if (err.status === 404) { forget(); return; }
        setTimeout(reconnect, 5000);
      });
  }

  // forget drops a conversation the server no longer has, such as one
  // deleted under the retention policy; the next message starts a new one.
  function forget() {
    state = null;
    localStorage.removeItem(storeKey);
    emailInput.hidden = false;
  }

  // askRating shows the one question about a resolved conversation, unless
  // the customer answered it already.
  function askRating() {
    if (!state) { return; }
    call("GET", "/widget/v1/conversations/" + state.conversation_id + "/rating")
      .then(function (st) { rating.hidden = !st.ask; }, function () {});
  }

  rating.querySelector(".thv-scores").addEventListener("click", function (e) {
    var n = Number(e.target.getAttribute("data-score"));
    if (!n) { return; }
    score = n;
    rating.querySelectorAll(".thv-scores button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-score")) === n));
    });
  });

  rating.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!score) { statusLine.textContent = "Choose a score from 1 to 5."; return; }
    call("POST", "/widget/v1/conversations/" + state.conversation_id + "/rating",
      { score: score, comment: rating.comment.value.trim() }).then(function () {
      rating.hidden = true;
      statusLine.textContent = "Thank you for your rating.";
    }, function (err) {
      if (err.status === 409) { rating.hidden = true; }
      statusLine.textContent = err.message;
    });
  });

  // A request about the visitor's data is made from their own conversation,
  // which proves who they are; the answer holds the page to follow it on,
  // which the widget keeps, to show again while the request is open.
  dataBox.querySelector(".thv-data-send").addEventListener("click", function () {
    var out = dataBox.querySelector(".thv-data-status");
    var kinds = Array.prototype.map.call(
      dataBox.querySelectorAll("input[name=kind]:checked"), function (c) { return c.value; });
    if (!kinds.length) {
      out.textContent = "Choose a copy, deletion, or both.";
      return;
    }
    // Before a first message there is nothing of theirs to ask about.
    if (!state) {
      out.textContent = "We hold nothing from you in this chat yet.";
      return;
    }
    out.textContent = "Sending…";
    call("POST", "/widget/v1/conversations/" + state.conversation_id +
      "/data-requests", { kinds: kinds }).then(function (res) {
      state.data_request_url = res.status_url;
      localStorage.setItem(storeKey, JSON.stringify(state));
      showRequest(out, "Received. Follow your request here: ");
    }, function (err) {
      if (err.status === 409 && state && state.data_request_url) {
        showRequest(out, "You already have a request open. Follow it here: ");
        return;
      }
      out.textContent = err.message;
    });
  });

  function showRequest(out, text) {
    out.textContent = text;
    var a = document.createElement("a");
    a.href = state.data_request_url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = "your request";
    out.appendChild(a);
  }

  // The address a visitor may give before their first message lets the
  // team write back, and lets them ask about their data by mail later.
  var emailInput = form.querySelector(".thv-email");
  emailInput.hidden = !!state;

  function ensureConversation() {
    if (state) { return Promise.resolve(); }
    var email = emailInput.value.trim();
    return call("POST", "/widget/v1/conversations", email ? { email: email } : undefined)
      .then(function (v) {
        state = v;
        localStorage.setItem(storeKey, JSON.stringify(v));
        emailInput.hidden = true;
        return listen();
      });
  }

  function send(text, retried) {
    return ensureConversation().then(function () {
      return call("POST", "/widget/v1/conversations/" + state.conversation_id + "/messages",
        { text: text });
    }).catch(function (err) {
      if (err.status !== 404 || retried) { throw err; }
      forget();
      return send(text, true);
    });
  }

  function upload(file, caption, retried) {
    return ensureConversation().then(function () {
      var body = new FormData();
      body.append("file", file, file.name);
      if (caption) { body.append("text", caption); }
      var h = headers();
      delete h["Content-Type"]; // the browser names the multipart boundary
      return fetch(base + "/widget/v1/conversations/" + state.conversation_id +
        "/attachments", { method: "POST", headers: h, body: body }).then(answer, offline);
    }).catch(function (err) {
      if (err.status !== 404 || retried) { throw err; }
      forget();
      return upload(file, caption, true);
    });
  }

  var fileInput = form.querySelector(".thv-file");
  form.querySelector(".thv-attach").addEventListener("click", function () {
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    if (!file) { return; }
    var caption = form.text.value.trim();
    form.text.value = "";
    statusLine.textContent = "Sending " + file.name + "…";
    upload(file, caption).then(function (res) {
      show(res.message);
      if (res.reply) { show(res.reply); }
      statusLine.textContent = outcomes[res.outcome] || "";
    }).catch(function (err) {
      statusLine.textContent = err.message;
      form.text.value = caption;
    }).finally(function () { fileInput.value = ""; });
  });

  function setOpen(open) {
    panel.hidden = !open;
    openBtn.setAttribute("aria-expanded", String(open));
    openBtn.textContent = open ? "Close chat" : "Chat with us";
    if (open) {
      form.text.focus();
      log.scrollTop = log.scrollHeight;
    } else {
      openBtn.focus();
    }
  }

  openBtn.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { setOpen(false); }
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = form.text.value.trim();
    if (!text) { return; }
    form.text.value = "";
    statusLine.textContent = "Sending…";
    send(text).then(function (res) {
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
