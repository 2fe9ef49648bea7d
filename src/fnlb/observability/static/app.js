/* fnlb dashboard: polls the management API every second and redraws.
 *
 * Data: /1/lb/dash/state (node table with the policy's warm-container estimate, where the
 * busiest functions are warm, server clock) and /1/lb/stats?since=<newest bucket> (only
 * seconds not seen yet; each row carries its cold starts). The estimate has no history on
 * the server: the warm-containers chart shows what this page polled since it opened. Rows are folded into per-second buckets by node and by
 * function; charts show the last `view` seconds (1, 2 or 5 minutes, chosen in the
 * header), functions beyond the TOP busiest as "other"
 * so that 50 functions on 10 nodes stay readable.
 */
"use strict";

(() => {
  const RANGES = [60, 120, 300];    // seconds the charts can show (buttons in the header)
  let view = 120;                   // seconds on the charts now
  const TOP = 8;                    // functions with their own line
  // Ten hues far apart, all legible on the dark background; grey is reserved for "other".
  const PALETTE = ["#4ea1ff", "#ff9f43", "#3ddc84", "#ff5c5c", "#b68cff", "#f5d547",
                   "#28d1e0", "#ff7eb6", "#c9a27a", "#a3e635"];
  const OTHER = "other", OTHER_COLOR = "#7f8a99";
  const { LineChart, formatSeconds, formatRate, clock, htmlEl } = Charts;

  const buckets = new Map();        // unix second -> {nodes: Map, funcs: Map, tot}
  let generation = 0;               // bumped when the range changes: drop polls in flight
  let newest = null;                // timestamp of the newest bucket received (RFC 3339)
  let serverNow = 0;                // server clock, unix seconds
  let nodeState = [];
  let warmFuncs = null;             // {func: {node: containers}} of the busiest functions, or null
  const warmSeen = new Map();       // unix second -> {node: containers} (polled by this page)

  const charts = {
    nodeTp: new LineChart(byId("chart-node-tp"), { yTitle: "requests / s", format: formatRate }),
    nodeWait: new LineChart(byId("chart-node-wait"), { yTitle: "wait", format: formatSeconds }),
    nodeP99: new LineChart(byId("chart-node-p99"), { yTitle: "latency", format: formatSeconds }),
    funcTp: new LineChart(byId("chart-func-tp"), { yTitle: "requests / s (stacked)", format: formatRate, stacked: true }),
    funcWait: new LineChart(byId("chart-func-wait"), { yTitle: "wait", format: formatSeconds }),
    events: new LineChart(byId("chart-events"), { yTitle: "events / s", format: formatRate,
      emptyText: "no spills, retries or errors in this period" }),
    nodeCold: new LineChart(byId("chart-node-cold"), { yTitle: "cold starts / s", format: formatRate,
      emptyText: "no cold starts in this period" }),
    funcCold: new LineChart(byId("chart-func-cold"), { yTitle: "cold starts / s (stacked)", format: formatRate,
      stacked: true, emptyText: "no cold starts in this period" }),
    nodeWarm: new LineChart(byId("chart-node-warm"), { yTitle: "containers", format: formatRate,
      emptyText: "no warm containers estimated" }),
  };

  function byId(id) { return document.getElementById(id); }

  // -- colours stay with a name while it is shown ------------------------------------
  class ColorBook {
    constructor() { this.byName = new Map(); this.shown = new Set(); }
    // Give each shown name a distinct colour, keeping the one it had when still free.
    assign(names) {
      const claimed = new Set(), waiting = [];
      for (const n of names) {
        const c = this.byName.get(n);
        if (c && !claimed.has(c)) claimed.add(c); else waiting.push(n);
      }
      const free = PALETTE.filter(c => !claimed.has(c));
      waiting.forEach((n, i) => this.byName.set(n, free.length ? free.shift() : PALETTE[i % PALETTE.length]));
      this.shown = new Set(names);
    }
    get(name) {
      if (name === OTHER) return OTHER_COLOR;
      return this.shown.has(name) ? this.byName.get(name) : undefined;
    }
  }
  const nodeColors = new ColorBook(), funcColors = new ColorBook();

  // -- data -----------------------------------------------------------------------------
  function acc(map, key) {
    let a = map.get(key);
    if (!a) map.set(key, a = { tp: 0, ws: 0, wn: 0, p99: null, sp: 0, rt: 0, err: 0, cold: 0, nodes: new Set() });
    return a;
  }

  function ingest(rows) {
    for (const r of rows) {
      const sec = Date.parse(r.timestamp) / 1000;
      let b = buckets.get(sec);
      if (!b) buckets.set(sec, b = { nodes: new Map(), funcs: new Map(), tot: acc(new Map(), "") });
      for (const a of [acc(b.nodes, r.node), acc(b.funcs, r.func), b.tot]) {
        a.tp += r.tp; a.ws += r.wait * r.waits; a.wn += r.waits;
        a.sp += r.spills; a.rt += r.retries; a.err += r.errors; a.cold += r.cold || 0;
        a.inv = (a.inv || 0) + r.invalid_wait;
        if (r.tp && (a.p99 === null || r.p99 > a.p99)) a.p99 = r.p99;
        a.nodes.add(r.node);
      }
      newest = r.timestamp;
    }
    for (const sec of buckets.keys()) if (sec < serverNow - view - 5) buckets.delete(sec);
    for (const sec of warmSeen.keys()) if (sec < serverNow - view - 5) warmSeen.delete(sec);
  }

  // Per-second values of one accumulator field over [t0, t1]; missing seconds are 0 for
  // counts and null (a gap) for means.
  function seriesOf(t0, t1, pick) {
    const out = [];
    for (let t = t0; t <= t1; t++) out.push(pick(buckets.get(t), t));
    return out;
  }
  const rate = field => a => (a ? a[field] : 0);
  const meanWait = a => (a && a.wn ? a.ws / a.wn : null);
  const p99 = a => (a && a.tp ? a.p99 : null);

  function sum(t0, t1, group, key, field) {
    let total = 0;
    for (let t = t0; t <= t1; t++) {
      const b = buckets.get(t), a = b && b[group].get(key);
      if (a) total += a[field];
    }
    return total;
  }

  // -- rendering -----------------------------------------------------------------------
  function render() {
    const t1 = Math.floor(serverNow) - 1, t0 = t1 - view + 1;     // complete seconds only
    const nodes = [...new Set([...nodeState.map(n => n.node),
      ...[...buckets.values()].flatMap(b => [...b.nodes.keys()])])].sort();
    nodeColors.assign(nodes);
    const perNode = pick => nodes.map(n => ({ name: n, color: nodeColors.get(n),
      values: seriesOf(t0, t1, b => pick(b && b.nodes.get(n))) }));
    charts.nodeTp.update(t0, t1, perNode(rate("tp")));
    charts.nodeWait.update(t0, t1, perNode(meanWait));
    charts.nodeP99.update(t0, t1, perNode(p99));
    charts.nodeCold.update(t0, t1, perNode(rate("cold")));
    if (nodeState.some(n => n.warm !== null && n.warm !== undefined)) {
      charts.nodeWarm.update(t0, t1, nodes.map(n => ({ name: n, color: nodeColors.get(n),
        values: seriesOf(t0, t1, (b, t) => { const w = warmSeen.get(t); return w && n in w ? w[n] : null; }) })));
    } else {
      charts.nodeWarm.opts.emptyText = "this policy keeps no container estimate (--policy default does)";
      charts.nodeWarm.update(t0, t1, []);
    }
    renderFunctions(t0, t1);
    charts.events.update(t0, t1, [
      { name: "spills", color: "#e8d06b", values: seriesOf(t0, t1, b => rate("sp")(b && b.tot)) },
      { name: "retries", color: "#b48ead", values: seriesOf(t0, t1, b => rate("rt")(b && b.tot)) },
      { name: "errors (5xx, broken)", color: "#ef6f6c", values: seriesOf(t0, t1, b => rate("err")(b && b.tot)) },
      { name: "invalid wait headers", color: "#56c2c2", values: seriesOf(t0, t1, b => rate("inv")(b && b.tot)) },
    ]);
    renderKpis(buckets.get(t1));
    renderNodes(nodes, t1);
  }

  function topFunctions(t0, t1) {
    const totals = new Map();
    for (let t = t0; t <= t1; t++) {
      const b = buckets.get(t);
      if (b) for (const [f, a] of b.funcs) totals.set(f, (totals.get(f) || 0) + a.tp);
    }
    const ranked = [...totals.entries()].filter(([f]) => f !== OTHER).sort((a, b) => b[1] - a[1]);
    return { top: ranked.slice(0, TOP).map(([f]) => f), rest: ranked.length > TOP || totals.has(OTHER) };
  }

  function renderFunctions(t0, t1) {
    const { top, rest } = topFunctions(t0, t1);
    funcColors.assign(top);
    const shown = new Set(top);
    // "other" = every function not in the top list, plus the server's own "other".
    const fold = (b, pick, merge) => {
      if (!b) return null;
      const parts = [...b.funcs].filter(([f]) => !shown.has(f)).map(([, a]) => a);
      return merge(parts);
    };
    const otherTp = b => fold(b, null, parts => parts.reduce((s, a) => s + a.tp, 0)) || 0;
    const otherWait = b => fold(b, null, parts => {
      const wn = parts.reduce((s, a) => s + a.wn, 0);
      return wn ? parts.reduce((s, a) => s + a.ws, 0) / wn : null;
    });
    const names = rest ? [...top, OTHER] : top;
    const tp = names.map(f => ({ name: f, color: funcColors.get(f), values: seriesOf(t0, t1,
      b => (f === OTHER ? otherTp(b) : rate("tp")(b && b.funcs.get(f)))) }));
    const wait = names.map(f => ({ name: f, color: funcColors.get(f), values: seriesOf(t0, t1,
      b => (f === OTHER ? otherWait(b) : meanWait(b && b.funcs.get(f)))) }));
    const otherCold = b => fold(b, null, parts => parts.reduce((s, a) => s + a.cold, 0)) || 0;
    const cold = names.map(f => ({ name: f, color: funcColors.get(f), values: seriesOf(t0, t1,
      b => (f === OTHER ? otherCold(b) : rate("cold")(b && b.funcs.get(f)))) }));
    charts.funcTp.update(t0, t1, tp);
    charts.funcWait.update(t0, t1, wait);
    charts.funcCold.update(t0, t1, cold.some(s => s.values.some(v => v)) ? cold : []);
    renderFunctionTable(t1);
  }

  function renderKpis(last) {
    const online = nodeState.filter(n => n.state === "online").length;
    byId("kpi-nodes").textContent = `${online} / ${nodeState.length}`;
    byId("kpi-rps").textContent = formatRate(last ? last.tot.tp : 0);
    byId("kpi-wait").textContent = formatSeconds(last ? meanWait(last.tot) : null);
    byId("kpi-p99").textContent = formatSeconds(last ? p99(last.tot) : null);
    byId("kpi-spills").textContent = formatRate(last ? last.tot.sp : 0);
    byId("kpi-cold").textContent = formatRate(last ? last.tot.cold : 0);
    byId("kpi-retries").textContent = formatRate(last ? last.tot.rt : 0);
    byId("kpi-errors").textContent = formatRate(last ? last.tot.err : 0);
  }

  function cell(row, text, cls) { return htmlEl("td", cls || "", row, text); }

  function renderNodes(nodes, t1) {
    const body = document.querySelector("#nodes tbody");
    body.replaceChildren();
    const byNode = new Map(nodeState.map(n => [n.node, n]));
    const avg = 5, t0 = t1 - avg + 1;
    for (const node of nodes) {
      const st = byNode.get(node) || { state: "removed", in_flight: 0, last_error: null };
      const row = htmlEl("tr", "", body);
      const name = cell(row, "", "name");
      htmlEl("span", "dot", name).style.background = nodeColors.get(node);
      name.appendChild(document.createTextNode(node));
      htmlEl("span", "badge " + (st.state === "online" ? "online" : "offline"), cell(row, ""), st.state);
      cell(row, st.warm === null || st.warm === undefined ? "–" : String(st.warm), "num warm");
      cell(row, String(st.in_flight), "num");
      cell(row, formatRate(sum(t0, t1, "nodes", node, "tp") / avg), "num");
      const ws = sum(t0, t1, "nodes", node, "ws"), wn = sum(t0, t1, "nodes", node, "wn");
      cell(row, formatSeconds(wn ? ws / wn : null), "num");
      const last = buckets.get(t1), a = last && last.nodes.get(node);
      cell(row, formatSeconds(p99(a)), "num");
      cell(row, formatRate(sum(t0, t1, "nodes", node, "sp") / avg), "num");
      cell(row, formatRate(sum(t0, t1, "nodes", node, "cold") / avg), "num");
      cell(row, formatRate(sum(t0, t1, "nodes", node, "err") / avg), "num");
      const err = cell(row, st.last_error || "", "err");
      err.title = st.last_error || "";
    }
  }

  function renderFunctionTable(t1) {
    const span = 10, t0 = t1 - span + 1;
    const agg = new Map();
    for (let t = t0; t <= t1; t++) {
      const b = buckets.get(t);
      if (!b) continue;
      for (const [f, a] of b.funcs) {
        const g = acc(agg, f);
        g.tp += a.tp; g.ws += a.ws; g.wn += a.wn; g.cold += a.cold;
        a.nodes.forEach(n => g.nodes.add(n));
      }
    }
    const total = [...agg.values()].reduce((s, a) => s + a.tp, 0);
    const ranked = [...agg.entries()].sort((a, b) => b[1].tp - a[1].tp).slice(0, 10);
    const body = document.querySelector("#funcs tbody");
    body.replaceChildren();
    for (const [f, a] of ranked) {
      const row = htmlEl("tr", "", body);
      const name = cell(row, "", "name");
      const color = funcColors.get(f);
      if (color) htmlEl("span", "dot", name).style.background = color;
      name.appendChild(document.createTextNode(f));
      name.title = f;
      cell(row, formatRate(a.tp / span), "num");
      cell(row, formatSeconds(a.wn ? a.ws / a.wn : null), "num");
      cell(row, total ? `${Math.round(100 * a.tp / total)} %` : "–", "num");
      cell(row, formatRate(a.cold / span), "num");
      renderWhere(cell(row, "", "nodes"), f, a.nodes);
    }
  }

  // Which nodes a function is on: where the policy estimates its containers (x how many),
  // or, for a policy without an estimate (or a function outside the busiest the server
  // lists), the nodes that served it in the table's period.
  function renderWhere(td, func, served) {
    const warm = warmFuncs && warmFuncs[func];
    const entries = warm ? Object.entries(warm).sort((a, b) => b[1] - a[1])
                         : [...served].sort().map(n => [n, null]);
    td.title = warm ? "warm containers by node (the policy's estimate)" : "nodes that served it";
    if (warm && !entries.length) td.textContent = "none warm";
    for (const [node, n] of entries) {
      const item = htmlEl("span", "warm", td);
      const color = nodeColors.get(node);
      if (color) htmlEl("span", "dot", item).style.background = color;
      item.appendChild(document.createTextNode(n === null ? node : `${node} ×${n}`));
    }
  }

  // -- time range ----------------------------------------------------------------------
  function setupRanges() {
    const box = byId("ranges");
    for (const seconds of RANGES) {
      const button = htmlEl("button", seconds === view ? "on" : "", box, `${seconds / 60} min`);
      button.type = "button";
      button.addEventListener("click", () => {
        // A longer view needs older seconds: start over with one full read of the range.
        view = seconds;
        generation += 1;
        newest = null;
        buckets.clear();
        box.querySelectorAll("button").forEach(b => { b.className = b === button ? "on" : ""; });
      });
    }
  }

  // -- polling -------------------------------------------------------------------------
  async function getJSON(url) {
    const resp = await fetch(url, { cache: "no-store" });
    if (!resp.ok) throw new Error(`${url.split("?")[0]}: HTTP ${resp.status}`);
    return resp.json();
  }

  async function poll() {
    const status = byId("status");
    try {
      const state = await getJSON("/1/lb/dash/state");
      serverNow = state.now_ms / 1000;
      nodeState = state.nodes;
      warmFuncs = state.warm || null;
      const polled = {};
      for (const n of nodeState) if (n.warm !== null && n.warm !== undefined) polled[n.node] = n.warm;
      warmSeen.set(Math.floor(serverNow) - 1, polled);   // drawn with the last complete second
      const since = newest || String(state.now_ms - (view + 1) * 1000);
      const asked = generation;
      const data = await getJSON("/1/lb/stats?since=" + encodeURIComponent(since));
      if (asked === generation) ingest(data.stats);
      render();
      status.className = "status live";
      status.textContent = `live · updated ${clock(serverNow)} · history ${state.window} s on the server`;
    } catch (err) {
      status.className = "status down";
      status.textContent = `not updating: ${err.message}`;
    }
    setTimeout(poll, 1000);
  }

  setupRanges();
  poll();
})();
