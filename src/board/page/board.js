// callsense supervisor board: one EventSource, the rows sorted by need,
// one call's transcript and alerts on the side. No framework, no CDN.
"use strict";

const calls = new Map(); // call_id → row data (the hub's "call" view)
let selected = null; // call_id shown on the side
let turnsSeen = new Set(); // seqs shown for the selected call
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function pct(part, whole) {
  return whole > 0 ? `${Math.round((100 * part) / whole)}%` : "—";
}

function signed(x) {
  return (x > 0 ? "+" : "") + Number(x).toFixed(1);
}

function sparkline(points) {
  const w = 80, h = 22, ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  const zero = document.createElementNS(ns, "line");
  Object.entries({ x1: 0, x2: w, y1: h / 2, y2: h / 2, stroke: "#dde1e8" }).forEach(([k, v]) => zero.setAttribute(k, v));
  svg.append(zero);
  if (points && points.length > 0) {
    const step = points.length > 1 ? w / (points.length - 1) : 0;
    const ys = points.map((p) => h / 2 - (Math.max(-5, Math.min(5, p)) / 5) * (h / 2 - 2));
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", ys.map((y, i) => `${(i * step).toFixed(1)},${y.toFixed(1)}`).join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", points[points.length - 1] < 0 ? "#c0392b" : "#1e8449");
    line.setAttribute("stroke-width", "1.5");
    svg.append(line);
  }
  return svg;
}

function duration(c) {
  const end = c.ended_at_ms ?? Date.now();
  return clock(end - c.started_at_ms);
}

function needKey(c) {
  const trend = c.metrics?.sentiment_trend ?? 0;
  return [c.status === "ended" ? 1 : 0, -c.alert_count, trend];
}

function byNeed(a, b) {
  const x = needKey(a), y = needKey(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return a.call_id < b.call_id ? -1 : 1;
}

function row(c) {
  const m = c.metrics || {};
  const trend = m.sentiment_trend ?? 0;
  const arrow = { improving: "↗", declining: "↘" }[m.sentiment_direction] || "→";
  const cust = c.customer || {};
  const tags = (cust.risk_tags || []).map((t) => el("span", { class: "tag" }, t));
  const pos = m.position_ms || 0;
  const alerts = c.alert_count > 0
    ? el("span", {}, el("span", { class: "badge" }, c.alert_count), " ", c.last_alert?.message || "")
    : el("span", { class: "badge none" }, "0");
  const tr = el(
    "tr",
    { "data-call": c.call_id, class: (c.status === "ended" ? "ended " : "") + (selected === c.call_id ? "selected" : "") },
    el("td", {}, el("div", {}, c.call_id),
      el("div", { class: "muted" }, el("span", { class: "status" }, c.status), c.agent ? el("span", { class: "agent" }, ` · agent ${c.agent}`) : "")),
    el("td", {}, el("span", { class: "tier" }, cust.tier || "—"), ...tags),
    el("td", { class: "duration" }, duration(c)),
    el("td", { class: "sentiment" }, sparkline(c.spark), " ",
      el("span", { class: "trend " + (trend < 0 ? "neg" : trend > 0 ? "pos" : "") }, `${signed(trend)} ${arrow}`)),
    el("td", {}, `${pct(m.agent?.talk_ms || 0, pos)} / ${pct(m.customer?.talk_ms || 0, pos)}`),
    el("td", {}, pct(m.non_talk_ms || 0, pos)),
    el("td", {}, `${m.overtalk_count || 0}× ${((m.overtalk_ms || 0) / 1000).toFixed(1)} s`),
    el("td", { class: "intent" }, c.last_intent || "—"),
    el("td", { class: "alerts" }, alerts),
  );
  tr.addEventListener("click", () => select(c.call_id));
  return tr;
}

/// Rows are redrawn at most this often, however many events arrive.
const RENDER_EVERY_MS = 200;
let renderPending = false;

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => {
    renderPending = false;
    render();
  }, RENDER_EVERY_MS);
}

function render() {
  const list = [...calls.values()].sort(byNeed);
  $("rows").replaceChildren(...list.map(row));
  $("empty").hidden = list.length > 0;
  const active = list.filter((c) => c.status === "active").length;
  $("counts").textContent = `${active} active · ${list.length - active} ended`;
  if (selected && calls.has(selected)) measures(calls.get(selected));
}

function measures(c) {
  const m = c.metrics || {};
  const cell = (name, value) => el("div", {}, el("b", {}, name), value);
  const role = (r) => (m[r] ? `${Math.round(m[r].talk_speed_wpm)} wpm · ${m[r].loudness_dbfs} dBFS` : "—");
  $("d-title").textContent = `${c.call_id}${c.agent ? " · agent " + c.agent : ""} · ${c.status}${c.outcome && c.outcome !== "completed" ? " (" + c.outcome + ")" : ""}`;
  $("d-measures").replaceChildren(
    cell("duration", duration(c)),
    cell("customer trend", `${signed(m.sentiment_trend ?? 0)} ${m.sentiment_direction || ""}`),
    cell("non-talk", `${((m.non_talk_ms || 0) / 1000).toFixed(1)} s (longest ${((m.longest_silence_ms || 0) / 1000).toFixed(1)} s)`),
    cell("overtalk", `${m.overtalk_count || 0}× ${((m.overtalk_ms || 0) / 1000).toFixed(1)} s`),
    cell("interruptions A / C", `${m.interruptions?.agent ?? 0} / ${m.interruptions?.customer ?? 0}`),
    cell("holds", `${m.hold_count || 0}`),
    cell("agent", role("agent")),
    cell("customer", role("customer")),
    cell("intents", (c.summary?.intents || []).map((i) => `${i.label} ×${i.count}`).join(", ") || c.last_intent || "—"),
  );
}

function addTurn(t) {
  if (turnsSeen.has(t.seq)) return;
  turnsSeen.add(t.seq);
  const s = t.score5 == null ? "" : ` · ${signed(t.score5)}`;
  const li = el("li", { class: `turn ${t.role}`, "data-seq": t.seq },
    el("div", { class: "meta" }, `${t.role} · ${clock(t.start_ms)}${s}${t.sentiment ? " " + t.sentiment : ""}${t.intent ? " · " + t.intent : ""}`),
    el("div", { class: "text" }, t.text));
  const list = $("d-turns");
  const after = [...list.children].find((x) => Number(x.dataset.seq) > t.seq);
  list.insertBefore(li, after || null);
}

function addAlert(a) {
  $("d-alerts").append(el("li", { class: `alert ${a.severity}` },
    el("b", {}, a.rule), ": ", a.message, a.evidence ? el("div", { class: "muted" }, a.evidence) : ""));
}

async function select(id) {
  selected = id;
  turnsSeen = new Set();
  $("d-turns").replaceChildren();
  $("d-alerts").replaceChildren();
  $("detail").hidden = false;
  render();
  const r = await fetch(`/api/calls/${encodeURIComponent(id)}`);
  if (!r.ok || selected !== id) return;
  const c = await r.json();
  (c.turns || []).forEach(addTurn);
  $("d-alerts").replaceChildren();
  (c.alerts || []).forEach(addAlert);
  measures(c);
}

$("d-close").addEventListener("click", () => {
  selected = null;
  $("detail").hidden = true;
  render();
});

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("open", () => {
    $("conn").textContent = "live";
    $("conn").className = "conn live";
  });
  es.addEventListener("error", () => {
    $("conn").textContent = "reconnecting…";
    $("conn").className = "conn";
  });
  es.addEventListener("snapshot", (e) => {
    const s = JSON.parse(e.data);
    $("tenant").textContent = s.tenant === "*" ? "all tenants" : `tenant ${s.tenant}`;
    calls.clear();
    for (const c of s.calls) calls.set(c.call_id, c);
    render();
  });
  es.addEventListener("call", (e) => {
    const c = JSON.parse(e.data);
    calls.set(c.call_id, c);
    scheduleRender();
  });
  es.addEventListener("turn", (e) => {
    const t = JSON.parse(e.data);
    if (t.call_id === selected) addTurn(t.turn);
  });
  es.addEventListener("alert", (e) => {
    const a = JSON.parse(e.data);
    if (a.call_id === selected) addAlert(a.alert);
  });
}

connect();
// Durations tick between events.
setInterval(() => {
  document.querySelectorAll("#rows tr").forEach((tr) => {
    const c = calls.get(tr.dataset.call);
    if (c && c.status === "active") tr.querySelector(".duration").textContent = duration(c);
  });
}, 1000);
