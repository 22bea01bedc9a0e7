// hookguard inspector: polls /inspector/api/state and redraws the table and
// the chart; with a durable queue, polls /inspector/api/dead and lists its
// dead letters. Every value from a delivery or a dead letter is set with
// textContent, never as HTML: senders control them.
"use strict";
(function () {
  var table = document.getElementById("deliveries");
  var tbody = table.tBodies[0];
  var version = ""; // the first poll always fetches, to draw the chart
  var selected = 0;
  var live = document.getElementById("live");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function hhmmss(iso) {
    var d = new Date(iso);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return p(d.getUTCHours()) + ":" + p(d.getUTCMinutes()) + ":" + p(d.getUTCSeconds());
  }

  function row(d) {
    var tr = el("tr", "row-" + d.outcome);
    tr.setAttribute("data-seq", d.seq);
    tr.tabIndex = 0;
    if (d.seq === selected) tr.classList.add("selected");
    var seq = el("td", "seq", d.seq);
    if (d.replay_of) { seq.appendChild(document.createTextNode(" ")); seq.appendChild(el("span", "replay-of", "↻" + d.replay_of)); }
    tr.appendChild(seq);
    tr.appendChild(el("td", "time", hhmmss(d.time)));
    tr.appendChild(el("td", "provider", d.provider));
    tr.appendChild(el("td", "type", d.type));
    var id = el("td", "id", d.id);
    id.title = d.id;
    tr.appendChild(id);
    tr.appendChild(el("td", "status", d.status || ""));
    var oc = el("td", "outcome");
    oc.appendChild(el("span", "badge " + d.outcome, d.outcome || "…"));
    tr.appendChild(oc);
    var reason = el("td", "reason", d.reason);
    if (d.detail) reason.title = d.detail;
    tr.appendChild(reason);
    tr.appendChild(el("td", "secret", d.secret >= 0 ? "#" + d.secret : ""));
    tr.appendChild(el("td", "ack", d.ack_ms.toFixed(2) + " ms"));
    tr.appendChild(el("td", "attempts", d.attempts || ""));
    tr.appendChild(el("td", "result", d.result));
    return tr;
  }

  function renderTable(ds) {
    var frag = document.createDocumentFragment();
    if (ds.length === 0) {
      var tr = el("tr", "empty");
      var td = el("td", "", "No deliveries yet.");
      td.colSpan = 12;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    ds.forEach(function (d) { frag.appendChild(row(d)); });
    tbody.replaceChildren(frag);
  }

  var NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderChart(chart) {
    var box = document.getElementById("chart");
    var W = Math.max(300, Math.round(box.getBoundingClientRect().width) || 600), H = 120, top = 8, bottom = 14, n = chart.length;
    box.setAttribute("viewBox", "0 0 " + W + " " + H);
    var peak = 1, tot = { accepted: 0, duplicate: 0, rejected: 0 };
    chart.forEach(function (m) {
      peak = Math.max(peak, m.accepted + m.duplicate + m.rejected);
      tot.accepted += m.accepted; tot.duplicate += m.duplicate; tot.rejected += m.rejected;
    });
    var scale = (H - top - bottom) / peak, bw = W / n;
    var nodes = [];
    chart.forEach(function (m, i) {
      var y = H - bottom;
      ["accepted", "duplicate", "rejected"].forEach(function (k) {
        if (!m[k]) return;
        var h = m[k] * scale;
        y -= h;
        var r = svg("rect", { x: (i * bw + 1).toFixed(1), y: y.toFixed(1), width: (bw - 2).toFixed(1), height: h.toFixed(1), "class": k });
        r.appendChild(svg("title", {}, hhmmss(m.minute).slice(0, 5) + " " + k + ": " + m[k]));
        nodes.push(r);
      });
      if (i % 5 === 0 || i === n - 1) {
        nodes.push(svg("text", { x: (i * bw + bw / 2).toFixed(1), y: H - 2, "text-anchor": "middle", "class": "axis" }, hhmmss(m.minute).slice(0, 5)));
      }
    });
    nodes.push(svg("text", { x: 2, y: top + 2, "class": "axis" }, String(peak)));
    box.replaceChildren.apply(box, nodes);
    document.getElementById("totals").textContent =
      tot.accepted + " accepted · " + tot.duplicate + " duplicate · " + tot.rejected + " rejected";
  }

  function poll() {
    fetch("/inspector/api/state?v=" + encodeURIComponent(version), { cache: "no-store" })
      .then(function (r) {
        live.classList.remove("stale");
        live.textContent = "live";
        if (r.status === 204) return null;
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (s) {
        if (!s) return;
        version = String(s.version);
        renderTable(s.deliveries);
        renderChart(s.chart);
      })
      .catch(function () { live.classList.add("stale"); live.textContent = "disconnected"; })
      .finally(function () { setTimeout(poll, 1000); });
  }

  function show(seq) {
    fetch("/inspector/api/deliveries/" + seq, { cache: "no-store" })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error); return j; }); })
      .then(function (d) {
        selected = d.seq;
        Array.prototype.forEach.call(tbody.rows, function (tr) {
          tr.classList.toggle("selected", tr.getAttribute("data-seq") === String(d.seq));
        });
        var box = document.getElementById("detail");
        box.hidden = false;
        box.removeAttribute("data-ref");
        box.setAttribute("data-seq", d.seq);
        document.getElementById("detail-title").textContent =
          "Delivery #" + d.seq + " · " + d.method + " " + d.path;
        var parts = [d.provider, d.type, d.id, d.status + " " + d.outcome];
        if (d.reason) parts.push(d.reason);
        if (d.detail) parts.push(d.detail);
        document.getElementById("detail-summary").textContent = parts.filter(Boolean).join(" · ");
        var hb = document.querySelector("#headers tbody");
        var frag = document.createDocumentFragment();
        (d.headers || []).forEach(function (h) {
          var tr = el("tr");
          tr.appendChild(el("td", "", h[0]));
          tr.appendChild(el("td", h[1].indexOf("masked (") >= 0 ? "masked" : "", h[1]));
          frag.appendChild(tr);
        });
        hb.replaceChildren(frag);
        document.getElementById("body").textContent = d.body || "(empty)";
        var note = document.getElementById("body-note");
        note.hidden = !d.body_note;
        note.textContent = d.body_note || "";
        var rb = document.getElementById("replay");
        rb.hidden = false;
        rb.disabled = !d.replayable;
        document.getElementById("replay-note").hidden = true;
      })
      .catch(function (e) { alert(e.message); });
  }

  tbody.addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-seq]");
    if (tr) show(tr.getAttribute("data-seq"));
  });
  tbody.addEventListener("keydown", function (ev) {
    var tr = ev.target.closest("tr[data-seq]");
    if (tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); show(tr.getAttribute("data-seq")); }
  });
  document.getElementById("close").addEventListener("click", function () {
    var box = document.getElementById("detail");
    box.hidden = true;
    box.removeAttribute("data-ref");
    selected = 0;
  });
  document.getElementById("replay").addEventListener("click", function () {
    var seq = document.getElementById("detail").getAttribute("data-seq");
    var btn = this;
    btn.disabled = true;
    fetch("/inspector/api/deliveries/" + seq + "/replay", { method: "POST", headers: { "X-Hookguard-Inspector": "replay" } })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error); return j; }); })
      .then(function (j) {
        var note = document.getElementById("replay-note");
        note.hidden = false;
        note.textContent = "Re-sent as delivery #" + j.seq + ".";
      })
      .catch(function (e) { alert(e.message); })
      .finally(function () { btn.disabled = false; });
  });

  // Dead letters: only with --redis or --postgres (data-durable).
  var dead = document.getElementById("dead");
  var deadTable = document.getElementById("dead-letters");
  var deadTimer = 0;

  function age(s) {
    if (s < 60) return Math.floor(s) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor(s % 3600 / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  }

  function deadNote(text) {
    var n = document.getElementById("dead-note");
    n.hidden = !text;
    n.textContent = text || "";
  }

  function deadRow(d) {
    var tr = el("tr");
    tr.setAttribute("data-ref", d.ref);
    tr.tabIndex = 0;
    tr.appendChild(el("td", "ref", d.ref));
    var a = el("td", "age", age(d.age_s));
    a.title = d.at;
    tr.appendChild(a);
    tr.appendChild(el("td", "provider", d.provider));
    tr.appendChild(el("td", "type", d.type));
    var id = el("td", "id", d.id);
    id.title = d.id;
    tr.appendChild(id);
    tr.appendChild(el("td", "attempts", d.attempts));
    tr.appendChild(el("td", "replays", d.replays || ""));
    var err = el("td", "error", d.error);
    err.title = d.error;
    tr.appendChild(err);
    var act = el("td", "actions");
    var rb = el("button", "replay", "Replay");
    rb.type = "button";
    rb.title = "Put this event through dedupe and the queue again; the handler takes it like a new delivery";
    var db = el("button", "drop", "Drop");
    db.type = "button";
    db.title = "Delete this dead letter";
    act.appendChild(rb);
    act.appendChild(db);
    tr.appendChild(act);
    return tr;
  }

  function deadQuery() {
    var q = [];
    Array.prototype.forEach.call(document.querySelectorAll("#dead-filter input"), function (i) {
      if (i.value) q.push(encodeURIComponent(i.name) + "=" + encodeURIComponent(i.value));
    });
    return q.length ? "?" + q.join("&") : "";
  }

  function pollDead() {
    clearTimeout(deadTimer);
    fetch("/inspector/api/dead" + deadQuery(), { cache: "no-store" })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error); return j; }); })
      .then(function (j) {
        var frag = document.createDocumentFragment();
        if (j.dead_letters.length === 0) {
          var tr = el("tr", "empty");
          var td = el("td", "", deadQuery() ? "No dead letter matches." : "No dead letters.");
          td.colSpan = 9;
          tr.appendChild(td);
          frag.appendChild(tr);
        }
        j.dead_letters.forEach(function (d) { frag.appendChild(deadRow(d)); });
        deadTable.tBodies[0].replaceChildren(frag);
        dead.setAttribute("data-count", j.dead_letters.length);
      })
      .catch(function (e) { deadNote("Could not list the dead letters: " + e.message); })
      .finally(function () { clearTimeout(deadTimer); deadTimer = setTimeout(pollDead, 5000); });
  }

  function deadAction(ref, action, btn) {
    btn.disabled = true;
    fetch("/inspector/api/dead/" + encodeURIComponent(ref) + "/" + action, { method: "POST", headers: { "X-Hookguard-Inspector": action } })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error); return j; }); })
      .then(function (j) {
        if (j.result === "replayed") deadNote("Dead letter " + ref + " replayed: " + j.message + ".");
        else if (j.result === "duplicate") deadNote("Dead letter " + ref + " not replayed (duplicate): " + j.message + ".");
        else deadNote("Dead letter " + ref + " dropped.");
        dead.setAttribute("data-last", ref + " " + j.result);
      })
      .catch(function (e) { deadNote("Dead letter " + ref + ": " + e.message); dead.setAttribute("data-last", ref + " error"); })
      .finally(function () { btn.disabled = false; pollDead(); });
  }

  function showDead(ref) {
    fetch("/inspector/api/dead/" + encodeURIComponent(ref), { cache: "no-store" })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error); return j; }); })
      .then(function (d) {
        selected = 0;
        Array.prototype.forEach.call(tbody.rows, function (tr) { tr.classList.remove("selected"); });
        var box = document.getElementById("detail");
        box.hidden = false;
        box.removeAttribute("data-seq");
        box.setAttribute("data-ref", d.ref);
        document.getElementById("detail-title").textContent = "Dead letter " + d.ref + " · " + d.provider;
        var parts = [d.type, d.id, d.attempts + (d.attempts === 1 ? " attempt" : " attempts"), "gave up " + d.at];
        if (d.replays) parts.push("replayed " + d.replays + "×");
        parts.push(d.error);
        document.getElementById("detail-summary").textContent = parts.filter(Boolean).join(" · ");
        var frag = document.createDocumentFragment();
        (d.headers || []).forEach(function (h) {
          var tr = el("tr");
          tr.appendChild(el("td", "", h[0]));
          tr.appendChild(el("td", h[1].indexOf("masked (") >= 0 ? "masked" : "", h[1]));
          frag.appendChild(tr);
        });
        document.querySelector("#headers tbody").replaceChildren(frag);
        document.getElementById("body").textContent = d.body || "(empty)";
        document.getElementById("body-note").hidden = true;
        document.getElementById("replay").hidden = true; // Re-send is for deliveries; the row has Replay
        document.getElementById("replay-note").hidden = true;
      })
      .catch(function (e) { deadNote(e.message); });
  }

  if (deadTable) {
    deadTable.tBodies[0].addEventListener("click", function (ev) {
      var tr = ev.target.closest("tr[data-ref]");
      if (!tr) return;
      var ref = tr.getAttribute("data-ref");
      var btn = ev.target.closest("button");
      if (!btn) { showDead(ref); return; }
      if (btn.classList.contains("replay")) deadAction(ref, "replay", btn);
      else if (btn.classList.contains("drop") && confirm("Drop dead letter " + ref + "? It cannot be replayed afterwards.")) deadAction(ref, "drop", btn);
    });
    deadTable.tBodies[0].addEventListener("keydown", function (ev) {
      var tr = ev.target.closest("tr[data-ref]");
      if (tr && ev.target === tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); showDead(tr.getAttribute("data-ref")); }
    });
    var filterTimer = 0;
    document.getElementById("dead-filter").addEventListener("input", function () {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(pollDead, 300);
    });
    pollDead();
  }

  poll();
})();
