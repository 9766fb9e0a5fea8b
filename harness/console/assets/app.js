// The console's pages. Everything the server sends is put in the page as text
// (textContent), never as markup.
"use strict";
const L = JSON.parse(document.getElementById("labels").textContent);
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function errorOf(resp) {
  try { return (await resp.json()).error || resp.statusText; } catch (_) { return resp.statusText; }
}

// ---- Validate ----
function setupValidate() {
  const form = $("#validate-form"), drop = $("#drop"), files = $("#files"), paste = $("#paste");
  let dropped = [];
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    dropped = Array.from(e.dataTransfer.files);
    run();
  });
  files.addEventListener("change", () => { dropped = []; run(); });
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });

  async function run() {
    const data = new FormData();
    data.append("schema_set", $("#schema-set").value);
    for (const f of dropped.concat(Array.from(files.files))) data.append("file", f, f.name);
    if (paste.value.trim() !== "") data.append("paste", new Blob([paste.value], { type: "application/xml" }), "");
    const status = $("#status");
    if (!data.has("file") && !data.has("paste")) { status.textContent = L.nothing; return; }
    status.textContent = L.validating;
    let resp;
    try { resp = await fetch("/api/validate", { method: "POST", body: data }); }
    catch (e) { status.textContent = L.failed + ": " + e; return; }
    if (!resp.ok) { status.textContent = L.failed + ": " + await errorOf(resp); return; }
    show(await resp.json());
  }

  function show(a) {
    const s = a.summary;
    $("#status").textContent = `${s.files} ${L.summary}: ${s.valid} ${L.valid}, ${s.invalid} ${L.invalid} (${s.errors} ${L.errors}, ${s.warnings} ${L.warnings})`;
    const dl = (id, text, type, label) => {
      const link = $(id);
      if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([text], { type }));
      link.textContent = label;
    };
    dl("#dl-json", a.json, "application/json", L.download_json);
    dl("#dl-junit", a.junit, "application/xml", L.download_junit);
    $("#downloads").hidden = false;
    const out = $("#results");
    out.replaceChildren(...a.documents.map((d, i) => documentView(d, i)));
  }

  function documentView(d, i) {
    const verdict = d.valid ? L.valid : L.invalid;
    const sec = el("section", { class: "doc", "aria-labelledby": `doc-${i}` },
      el("h2", { id: `doc-${i}` }, d.name + " — ",
        el("span", { class: d.valid ? "verdict-valid" : "verdict-invalid", text: verdict }),
        ` (${d.errors} ${L.errors}, ${d.warnings} ${L.warnings})`));
    const hits = new Set(d.findings.filter((f) => f.line > 0).map((f) => f.line));
    if (d.findings.length) {
      sec.append(el("ol", { class: "findings" }, ...d.findings.map((f, j) => findingView(f, i, j))));
    }
    if (d.source !== null) {
      const lines = d.source.split(/\r\n|\r|\n/);
      const code = el("code", {}, ...lines.map((text, k) => {
        const n = k + 1;
        return el("span", { class: hits.has(n) ? "line hit" : "line", id: `L-${i}-${n}`, "data-line": n },
          el("span", { class: "ln", "aria-hidden": "true", text: n }), text);
      }));
      sec.append(el("h3", { text: L.listing }), el("pre", { class: "listing", tabindex: "0", "aria-label": L.listing + " " + d.name }, code));
    }
    return sec;
  }

  function findingView(f, i, j) {
    const where = f.line > 0
      ? el("a", { href: `#L-${i}-${f.line}`, class: "where", text: `${L.line} ${f.line}:${f.column}` })
      : el("span", { class: "where", text: L.whole });
    const li = el("li", { class: `finding ${f.severity}`, "data-rule": f.rule, "data-line": f.line, id: `f-${i}-${j}` },
      el("span", { class: "rule", text: f.rule }), " ", el("span", { class: "sev", text: f.severity }), " ", where, " ",
      el("span", { class: "message", text: f.message }));
    if (f.path) li.append(" ", el("code", { class: "path", text: f.path }));
    if (f.excerpt) {
      const t = Array.from(f.excerpt.text);
      li.append(el("pre", { class: "excerpt" }, t.slice(0, f.excerpt.start).join(""),
        el("mark", { text: t.slice(f.excerpt.start, Math.max(f.excerpt.end, f.excerpt.start + 1)).join("") }),
        t.slice(Math.max(f.excerpt.end, f.excerpt.start + 1)).join("")));
    }
    if (f.explanation || f.fix || f.hint) {
      li.append(el("details", {}, el("summary", { text: L.why }),
        f.explanation ? el("p", { class: "explanation", text: f.explanation }) : null,
        f.hint ? el("p", { class: "hint", text: f.hint }) : null,
        f.fix ? el("p", { class: "fix" }, el("strong", { text: L.fix + ": " }), f.fix) : null));
    }
    return li;
  }
}

// ---- Stand-in ----
function setupStandin() {
  const body = $("#journal tbody"), live = $("#live");
  const filters = ["#f-client", "#f-tx", "#f-outcome"].map((s) => $(s));
  const matches = (tr) => {
    const [c, t, o] = filters.map((f) => f.value.trim().toLowerCase());
    return (!c || tr.dataset.client.includes(c)) && (!t || tr.dataset.tx.includes(t)) && (!o || tr.dataset.outcome.includes(o));
  };
  const refilter = () => { for (const tr of body.rows) tr.hidden = !matches(tr); };
  filters.forEach((f) => f.addEventListener("input", refilter));

  function add(rows) {
    for (const r of rows) {
      const btn = el("button", { type: "button", class: "open", "data-seq": r.seq, text: L.open });
      btn.addEventListener("click", () => open(r.seq));
      const tr = el("tr", { class: "new", id: `seq-${r.seq}`, "data-client": (r.client || "").toLowerCase(),
          "data-tx": (r.tx_id || "").toLowerCase(), "data-outcome": r.outcome.toLowerCase() },
        el("td", { text: r.seq }), el("td", { text: r.time }), el("td", { text: r.status === null ? "-" : r.status }),
        el("td", { class: "mono tx", text: r.tx_id || "-" }), el("td", { class: "mono", text: r.client ? r.client.slice(0, 16) : "-", title: r.client || L.none }),
        el("td", { class: "outcome", text: r.outcome }), el("td", {}, btn));
      tr.hidden = !matches(tr);
      body.append(tr);
    }
  }

  async function open(seq) {
    const resp = await fetch(`/api/journal/${seq}`);
    const sec = $("#exchange");
    if (!resp.ok) { $("#exchange-text").textContent = await errorOf(resp); }
    else { $("#exchange-text").textContent = (await resp.json()).text; }
    $("#exchange-title").textContent = `#${seq}`;
    sec.hidden = false; sec.focus();
  }

  const es = new EventSource("/api/journal/events");
  es.addEventListener("records", (e) => { live.textContent = L.live; add(JSON.parse(e.data)); });
  es.addEventListener("journal-error", (e) => { live.textContent = L.offline + " (" + e.data + ")"; });
  es.onerror = () => { live.textContent = L.offline; };
  setupFaults();
}

// ---- Stand-in: fault injection ----
// The settings the page does not show (seed, hold time, TLS faults, a fixed or
// uniform latency) are kept as read from the stand-in.
function setupFaults() {
  const form = $("#faults-form"), state = $("#faults-state"), latency = $("#fault-latency");
  const inputs = Array.from(form.querySelectorAll("input[data-share]"));
  let current = null;

  function describe(cfg, active) {
    if (!active) return L["faults-off"];
    const on = inputs.filter((i) => cfg[i.dataset.share] > 0)
      .map((i) => `${form.querySelector(`label[for='${i.id}']`).textContent} ${cfg[i.dataset.share]}`);
    for (const k of ["tls_alert", "tls_close_after_handshake"]) if (cfg[k] > 0) on.push(`${k} ${cfg[k]}`);
    if (cfg.latency.kind !== "none") on.push(`${L.latency} ${cfg.latency.kind}`);
    return `${L["faults-on"]}: ${on.join(", ")}`;
  }

  function show(a) {
    current = a.config;
    for (const i of inputs) i.value = String(current[i.dataset.share]);
    const keep = latency.querySelector("option[value='keep']");
    keep.hidden = ["none", "fk-like"].includes(current.latency.kind);
    latency.value = keep.hidden ? current.latency.kind : "keep";
    form.hidden = false;
    form.dataset.active = a.active ? "on" : "off";
    return describe(current, a.active);
  }

  async function load() {
    let resp;
    try { resp = await fetch("/api/faults"); }
    catch (e) { state.textContent = L.failed + ": " + e; setTimeout(load, 3000); return; }
    if (!resp.ok) {
      const why = await errorOf(resp);
      form.hidden = true;
      state.textContent = resp.status === 503 ? `${L["faults-unavailable"]} (${why})` : why;
      // The stand-in may be started later.
      setTimeout(load, 3000);
      return;
    }
    state.textContent = show(await resp.json());
  }

  async function apply(cfg) {
    let resp;
    try {
      resp = await fetch("/api/faults", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(cfg) });
    } catch (e) { state.textContent = L.failed + ": " + e; return; }
    if (!resp.ok) {
      state.textContent = `${L["faults-refused"]}: ${await errorOf(resp)}`;
      if (resp.status === 503) { form.hidden = true; setTimeout(load, 3000); }
      return;
    }
    state.textContent = `${L["faults-applied"]} ${show(await resp.json())}`;
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const cfg = Object.assign({}, current);
    for (const i of inputs) cfg[i.dataset.share] = i.value.trim() === "" ? NaN : Number(i.value);
    const bad = inputs.find((i) => !(cfg[i.dataset.share] >= 0 && cfg[i.dataset.share] <= 1));
    if (bad) {
      state.textContent = `${L["faults-refused"]}: ${form.querySelector(`label[for='${bad.id}']`).textContent} 0–1`;
      bad.focus();
      return;
    }
    if (latency.value !== "keep") cfg.latency = { kind: latency.value };
    apply(cfg);
  });
  $("#faults-off").addEventListener("click", () => {
    const cfg = Object.assign({}, current, { latency: { kind: "none" }, tls_alert: 0, tls_close_after_handshake: 0 });
    for (const i of inputs) cfg[i.dataset.share] = 0;
    apply(cfg);
  });
  load();
}

// ---- Session ----
function setupSession() {
  const body = $("#checklist tbody"), state = $("#session-state");
  const names = { "demonstrated": L.demonstrated, "not-demonstrated": L["not-demonstrated"], "failed": L["failed-case"] };
  async function poll() {
    try {
      const resp = await fetch("/api/session");
      if (!resp.ok) { state.textContent = await errorOf(resp); return; }
      const r = await resp.json();
      state.textContent = `${r.session.name} — ${r.checklist_title}: ${r.verdict === "ready" ? L.ready : L["not-ready"]}`;
      body.replaceChildren(...r.cases.map((c) => el("tr", { id: `case-${c.id}`, "data-status": c.status },
        el("td", {}, el("strong", { text: c.id }), " " + c.title + " (" + (c.required ? L.required : L.optional) + ")"),
        el("td", { class: `state state-${c.status}`, text: names[c.status] || c.status }),
        el("td", { text: c.reason || c.hint || "" }))));
    } catch (e) { state.textContent = L.failed + ": " + e; }
    finally { setTimeout(poll, 1000); }
  }
  poll();
}

// ---- Reports ----
async function setupReports() {
  const resp = await fetch("/api/reports");
  const list = resp.ok ? await resp.json() : [];
  const body = $("#reports tbody");
  for (const r of list) {
    const href = "/files/" + r.path.split("/").map(encodeURIComponent).join("/") + "/report.html";
    const when = r.modified ? new Date(r.modified * 1000).toISOString().replace("T", " ").slice(0, 19) : "-";
    body.append(el("tr", {}, el("td", {}, el("a", { href, class: "report", text: r.path })), el("td", { text: when })));
  }
  if (!list.length) { const p = $("#reports-empty"); p.textContent = L["no-reports"]; p.hidden = false; }
}

const page = document.body.dataset.page;
if (page === "validate") setupValidate();
else if (page === "standin") setupStandin();
else if (page === "session") setupSession();
else if (page === "reports") setupReports();
