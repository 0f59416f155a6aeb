/// The web page's script and style sheet, embedded in the binary (no SwiftPM resources, no CDN):
/// our own code, no framework. `ui.js` fetches the JSON API (v1.3 machine and containers, v2.0 ps)
/// every housekeeping interval, draws SVG charts with time axes and units, fills the figures and the
/// process table, and runs the filter box and keyboard navigation; `ui.css` follows the system's
/// dark mode and narrows to phone width.
enum WebAssets {
    /// One embedded file: its bytes, content type and an ETag from a hash of its bytes.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        /// FNV-1a 64 of the bytes, hex: the `?v=` of the page's links and the ETag.
        let hash: String
        var etag: String { "\"" + hash + "\"" }

        init(_ text: String, contentType: String) {
            bytes = Array(text.utf8)
            self.contentType = contentType
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            let digits = Array("0123456789abcdef")
            hash = String((0..<16).map { digits[Int((h >> (60 - 4 * UInt64($0))) & 15)] })
        }
    }

    static func named(_ file: String) -> Asset? {
        switch file {
        case "ui.js": return script
        case "ui.css": return css
        default: return nil
        }
    }

    static let script = Asset(scriptText, contentType: "text/javascript; charset=utf-8")
    static let css = Asset(cssText, contentType: "text/css; charset=utf-8")

    static let cssText = #"""
:root{--bg:#fff;--fg:#1b1f24;--mut:#57606a;--card:#f6f8fa;--line:#d0d7de;--acc:#0969da;--lim:#cf222e;
--c0:#0969da;--c1:#1a7f37;--c2:#bf8700;--c3:#8250df;--c4:#cf222e;--c5:#1b7c83;--c6:#bc4c00;--c7:#6e7781}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mut:#8d96a0;--card:#161b22;--line:#30363d;--acc:#4493f8;--lim:#f85149;
--c0:#4493f8;--c1:#3fb950;--c2:#d29922;--c3:#a371f7;--c4:#f85149;--c5:#39c5cf;--c6:#db6d28;--c7:#9198a1}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:var(--acc)}a:focus-visible,input:focus-visible,tr:focus-visible{outline:3px solid var(--acc);outline-offset:2px}
header{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;padding:.5em 1em;background:var(--card);border-bottom:1px solid var(--line)}
header nav{flex:1 1 20em;overflow-wrap:anywhere}.brand{font-weight:700;text-decoration:none}
#filter{flex:0 1 18em;min-width:10em;padding:.35em .6em;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);font:inherit}
#status{color:var(--mut);font-size:.85em}#status.err{color:var(--lim)}
main{padding:0 1em 2em;max-width:90em;margin:auto}
h1{font-size:1.4em;overflow-wrap:anywhere;margin:.6em 0 .2em}h2{font-size:1.05em;margin:.2em 0 .5em}small{color:var(--mut);font-weight:400}
.meta{color:var(--mut);overflow-wrap:anywhere}.meta span{margin-right:1em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(17em,1fr));gap:1em}
.card,figure{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.7em .9em;margin:0}
dl{display:grid;grid-template-columns:minmax(0,max-content) minmax(55%,1fr);gap:.15em 1em;margin:0}dt{color:var(--mut);overflow-wrap:anywhere}dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:break-word;min-width:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30em),1fr));gap:1em;margin:1em 0}
figcaption{font-weight:600;margin-bottom:.3em}svg.chart{width:100%;height:auto;display:block}
svg text{fill:var(--mut);font-size:11px;font-family:inherit}svg .grid-l{stroke:var(--line);stroke-width:1}
svg polyline{fill:none;stroke-width:1.8;vector-effect:non-scaling-stroke}svg .limit{stroke:var(--lim);stroke-dasharray:6 4}
.s0{stroke:var(--c0)}.s1{stroke:var(--c1)}.s2{stroke:var(--c2)}.s3{stroke:var(--c3)}.s4{stroke:var(--c4)}.s5{stroke:var(--c5)}.s6{stroke:var(--c6)}.s7{stroke:var(--c7)}
.legend{list-style:none;padding:0;margin:.3em 0 0;display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.85em}
.legend i{display:inline-block;width:.9em;height:3px;vertical-align:middle;margin-right:.3em;border-top:3px solid}
.empty{color:var(--mut);font-style:italic}figure.empty svg{display:none}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9em;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid var(--line);white-space:nowrap}td.cmd{white-space:normal;overflow-wrap:anywhere;min-width:12em}
th{cursor:pointer}th[aria-sort]{color:var(--acc)}
.nav ul{columns:22em;padding-left:1.2em}.nav li{break-inside:avoid;overflow-wrap:anywhere}.hidden{display:none}
@media (max-width:40em){main{padding:0 .5em 1em}header{padding:.4em .5em}#filter{flex:1 1 100%}}
"""#

    static let scriptText = #"""
"use strict";
(() => {
const B = document.body, P = B.dataset.prefix || "", NAME = B.dataset.name;
const IV = Math.max(250, Number(B.dataset.interval) || 1000), KEEP = Math.min(600, Math.max(60, Math.ceil(120000 / IV)));
const $ = (s, r = document) => r.querySelector(s), $$ = (s, r = document) => Array.from(r.querySelectorAll(s));
const esc = s => String(s).replace(/[&<>"']/g, c => "&#" + c.charCodeAt(0) + ";");
const enc = n => n.split("/").map(encodeURIComponent).join("/");

// Units: bytes in KiB/MiB/GiB, rates per second, CPU in cores.
const U = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
function bytes(v) {
  let i = 0; v = Number(v);
  while (Math.abs(v) >= 1024 && i < U.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(Math.abs(v) < 10 ? 2 : 1) : String(Math.round(v))) + " " + U[i];
}
const rate = v => bytes(v) + "/s";
const cores = v => (v < 10 ? v.toFixed(3) : v.toFixed(1)) + " cores";
const pct = v => v.toFixed(1) + " %";
const perSec = v => (v < 10 ? v.toFixed(2) : v.toFixed(0)) + "/s";
const num = v => Number(v).toLocaleString("en-US");
const clock = t => new Date(t).toTimeString().slice(0, 8);
function dur(s) { s = Math.floor(s); const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + (s % 60) + "s"; }

// RFC 3339 with nanoseconds to milliseconds (Date.parse keeps only milliseconds).
function ms(ts) {
  const m = /^(.{19})(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  return m ? Date.parse(m[1] + m[3]) + (m[2] ? Number("0" + m[2]) * 1000 : 0) : NaN;
}

function api(path, body) {
  const init = body === undefined ? { cache: "no-store" } : { method: "POST", body: JSON.stringify(body), cache: "no-store" };
  // Absolute, from the origin: a page opened as http://user:pass@host/ has a base URL with
  // credentials, against which a relative fetch is refused; the browser still sends its credentials.
  return fetch(location.origin + P + path, init).then(r => { if (!r.ok) throw new Error(path + ": HTTP " + r.status); return r.json(); });
}

// A definition list of [label, text, key, raw] rows; `key`/`raw` let tests read the exact figure.
function dl(id, rows, ts) {
  $("#" + id + " dl").innerHTML = rows.map(([l, t, k, raw]) =>
    "<dt>" + esc(l) + "</dt><dd" + (k ? ' data-key="' + esc(k) + '" data-raw="' + esc(raw) + '" data-ts="' + esc(ts || "") + '"' : "") +
    ">" + esc(t) + "</dd>").join("");
}

// Nice axis steps: 1, 2, 5 × 10^k (×1024^k for bytes).
function step(max, base) {
  if (!(max > 0)) return 1;
  let unit = 1;
  if (base === 1024) while (max / unit >= 1024) unit *= 1024;
  const raw = max / unit / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p * unit;
}

const H = 190, L = 70, R = 10, T = 10, Bm = 22;
// One chart: series [{name, pts:[[t, v]], last}] on a time axis; opts {fmt, base, limit, limitName, empty}.
function chart(id, title, series, o) {
  let fig = $("#fig-" + id);
  if (!fig) {
    fig = document.createElement("figure");
    fig.id = "fig-" + id;
    fig.innerHTML = "<figcaption>" + esc(title) + "</figcaption><svg class='chart' id='" + id + "' role='img' aria-label='" + esc(title) +
      "'></svg><ul class='legend'></ul>";
    $("#charts").appendChild(fig);
  }
  const svg = $("svg", fig), legend = $(".legend", fig);
  // As wide as it is drawn (text stays 11 px at phone width), at least 300 units.
  const W = Math.max(300, Math.round(fig.clientWidth - 20) || 600);
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  series = series.filter(s => s.pts.length > 0);
  if (!series.length) {
    svg.classList.add("empty-chart"); svg.innerHTML = "";
    legend.innerHTML = "<li>" + esc(o.empty || "no data") + "</li>"; fig.classList.add("empty"); return;
  }
  svg.classList.remove("empty-chart"); fig.classList.remove("empty");
  let t0 = Infinity, t1 = -Infinity, top = 0;
  for (const s of series) for (const [t, v] of s.pts) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); top = Math.max(top, v); }
  if (o.limit > 0 && o.limit < Infinity) top = Math.max(top, o.limit);
  const st = step(top, o.base), ymax = Math.max(st, Math.ceil(top / st) * st), span = Math.max(1, t1 - t0);
  const x = t => L + (t - t0) / span * (W - L - R), y = v => T + (1 - v / ymax) * (H - T - Bm);
  let g = "";
  for (let v = 0; v <= ymax + st / 2; v += st)
    g += "<line class='grid-l' x1='" + L + "' x2='" + (W - R) + "' y1='" + y(v).toFixed(1) + "' y2='" + y(v).toFixed(1) + "'/><text x='" + (L - 4) +
      "' y='" + (y(v) + 4).toFixed(1) + "' text-anchor='end'>" + esc(o.fmt(v)) + "</text>";
  for (let i = 0; i <= 4; i++) {
    const t = t0 + span * i / 4;
    g += "<text x='" + x(t).toFixed(1) + "' y='" + (H - 6) + "' text-anchor='" + (i === 0 ? "start" : i === 4 ? "end" : "middle") + "'>" + clock(t) + "</text>";
  }
  if (o.limit > 0 && o.limit < Infinity)
    g += "<line class='limit' x1='" + L + "' x2='" + (W - R) + "' y1='" + y(o.limit).toFixed(1) + "' y2='" + y(o.limit).toFixed(1) + "'/>";
  series.forEach((s, i) => {
    g += "<polyline class='s" + (i % 8) + "' data-series='" + esc(s.name) + "' points='" +
      s.pts.map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ") + "'><title>" + esc(s.name) + "</title></polyline>";
  });
  svg.innerHTML = g;
  legend.innerHTML = series.map((s, i) => "<li><i class='s" + (i % 8) + "'></i>" + esc(s.name) + " " + esc(o.fmt(s.pts[s.pts.length - 1][1])) + "</li>").join("") +
    (o.limit > 0 && o.limit < Infinity ? "<li><i class='limit'></i>" + esc(o.limitName || "limit") + " " + esc(o.fmt(o.limit)) + "</li>" : "");
}

// Per-second rates of a counter between consecutive samples.
function rates(stats, get) {
  const out = [];
  for (let i = 1; i < stats.length; i++) {
    const a = stats[i - 1], b = stats[i], dt = (b.t - a.t) / 1000, va = get(a), vb = get(b);
    if (dt > 0 && va !== undefined && vb !== undefined && vb >= va) out.push([b.t, (vb - va) / dt]);
  }
  return out;
}
const top8 = (names, weight) => names.map(n => [n, weight(n)]).sort((a, b) => b[1] - a[1]).slice(0, 8).map(a => a[0]);

let machine = null, stats = [], updates = 0, spec = null;

function renderMachine() {
  const m = machine;
  const rows = [["Cores", m.num_cores + " (" + m.num_physical_cores + " physical, " + m.num_sockets + " socket" + (m.num_sockets === 1 ? "" : "s") + ")", "machine.cores", m.num_cores],
    ["Memory", bytes(m.memory_capacity), "machine.memory", m.memory_capacity]];
  if (m.cpu_frequency_khz) rows.push(["CPU clock", (m.cpu_frequency_khz / 1e6).toFixed(2) + " GHz"]);
  if (m.swap_capacity) rows.push(["Swap", bytes(m.swap_capacity)]);
  for (const fs of m.filesystems || []) rows.push([fs.device, bytes(fs.capacity) + " " + fs.type]);
  dl("machine", rows);
}

function renderLimits(s) {
  const c = s.cpu || {}, m = s.memory || {}, big = v => !v || v >= 2 ** 62 || (machine && v >= machine.memory_capacity);
  const rows = [["CPU shares", String(c.limit ?? "—"), "limits.shares", c.limit ?? ""]];
  rows.push(["CPU quota", c.quota > 0 && c.period > 0 ? cores(c.quota / c.period) + " (" + c.quota + " µs per " + c.period + " µs)" : "none", "limits.quota", c.quota || 0]);
  rows.push(["CPU set", c.mask || "all"]);
  rows.push(["Memory limit", big(m.limit) ? "none" : bytes(m.limit), "limits.memory", m.limit || 0]);
  rows.push(["Memory reservation", big(m.reservation) ? "none" : bytes(m.reservation), "limits.reservation", m.reservation || 0]);
  if (m.swap_limit) rows.push(["Swap limit", big(m.swap_limit) ? "none" : bytes(m.swap_limit)]);
  const pl = (s.processes || {}).limit;
  rows.push(["Pids limit", pl ? num(pl) : "none", "limits.pids", pl || 0]);
  if (s.image) rows.push(["Image", s.image]);
  dl("limits", rows);
}

function render() {
  const last = stats[stats.length - 1], prev = stats[stats.length - 2], ts = last.timestamp;
  const lim = spec.memory && spec.memory.limit, cq = spec.cpu || {};
  const cpuLimit = cq.quota > 0 && cq.period > 0 ? cq.quota / cq.period : 0;
  const cpuRate = (a, b, f) => (f(b) - f(a)) / ((b.t - a.t) * 1e6);
  const nowRows = [];
  if (prev && last.t > prev.t) {
    nowRows.push(["CPU", cores(cpuRate(prev, last, s => s.cpu.usage.total)), "cpu.cores", cpuRate(prev, last, s => s.cpu.usage.total)]);
    nowRows.push(["CPU user", cores(cpuRate(prev, last, s => s.cpu.usage.user)), "cpu.user", cpuRate(prev, last, s => s.cpu.usage.user)]);
    nowRows.push(["CPU kernel", cores(cpuRate(prev, last, s => s.cpu.usage.system)), "cpu.system", cpuRate(prev, last, s => s.cpu.usage.system)]);
  }
  nowRows.push(["Memory usage", bytes(last.memory.usage), "memory.usage", last.memory.usage]);
  nowRows.push(["Working set", bytes(last.memory.working_set), "memory.working_set", last.memory.working_set]);
  if (lim > 0 && !(machine && lim >= machine.memory_capacity))
    nowRows.push(["Of the limit", pct(100 * last.memory.working_set / lim)]);
  for (const i of (last.network && last.network.interfaces) || [])
    nowRows.push(["Net " + i.name, "rx " + bytes(i.rx_bytes) + ", tx " + bytes(i.tx_bytes), "net." + i.name + ".rx_bytes", i.rx_bytes]);
  for (const f of last.filesystem || [])
    nowRows.push(["FS " + f.device, bytes(f.usage) + " of " + bytes(f.capacity) + (f.capacity ? " (" + pct(100 * f.usage / f.capacity) + ")" : ""), "fs." + f.device + ".usage", f.usage]);
  nowRows.push(["Sampled", clock(last.t), "timestamp", ts]);
  dl("now", nowRows, ts);

  const ns = 1e9;
  chart("cpu-total", "CPU usage", [{ name: "total", pts: rates(stats, s => s.cpu.usage.total / ns) }],
    { fmt: cores, limit: cpuLimit, limitName: "quota" });
  const ncpu = (last.cpu.usage.per_cpu_usage || []).length;
  chart("cpu-per-core", "CPU per core", Array.from({ length: ncpu }, (_, c) => ({ name: "cpu" + c, pts: rates(stats, s => (s.cpu.usage.per_cpu_usage || [])[c] / ns) })),
    { fmt: cores, empty: "per-core usage is not reported on cgroup v2" });
  chart("cpu-user-kernel", "CPU user and kernel", [{ name: "user", pts: rates(stats, s => s.cpu.usage.user / ns) }, { name: "kernel", pts: rates(stats, s => s.cpu.usage.system / ns) }], { fmt: cores });
  chart("memory", "Memory", [{ name: "usage", pts: stats.map(s => [s.t, s.memory.usage]) }, { name: "working set", pts: stats.map(s => [s.t, s.memory.working_set]) }],
    { fmt: bytes, base: 1024, limit: lim > 0 && !(machine && lim >= machine.memory_capacity) ? lim : 0, limitName: "limit" });

  const ifs = ((last.network && last.network.interfaces) || []).map(i => i.name);
  const iface = (s, n) => ((s.network && s.network.interfaces) || []).find(i => i.name === n);
  const netTop = top8(ifs, n => { const i = iface(last, n); return i.rx_bytes + i.tx_bytes; });
  const netSeries = (a, b) => netTop.flatMap(n => [{ name: n + " rx", pts: rates(stats, s => (iface(s, n) || {})[a]) }, { name: n + " tx", pts: rates(stats, s => (iface(s, n) || {})[b]) }]);
  chart("network", "Network throughput", netSeries("rx_bytes", "tx_bytes"), { fmt: rate, base: 1024, empty: "no network interfaces" });
  chart("network-errors", "Network errors", netSeries("rx_errors", "tx_errors"), { fmt: perSec, empty: "no network interfaces" });

  const disk = s => ((s.diskio && s.diskio.io_service_bytes) || []);
  const devName = d => d.device || d.major + ":" + d.minor;
  const devs = top8(disk(last).map(devName), n => { const d = disk(last).find(x => devName(x) === n); return (d.stats.Read || 0) + (d.stats.Write || 0); });
  const dstat = (s, n, k) => { const d = disk(s).find(x => devName(x) === n); return d ? d.stats[k] || 0 : undefined; };
  chart("diskio", "Disk I/O", devs.flatMap(n => [{ name: n + " read", pts: rates(stats, s => dstat(s, n, "Read")) }, { name: n + " write", pts: rates(stats, s => dstat(s, n, "Write")) }]),
    { fmt: rate, base: 1024, empty: "no block I/O" });

  const fsDevs = (last.filesystem || []).slice(0, 8).map(f => f.device);
  chart("filesystem", "Filesystem usage", fsDevs.map(d => ({ name: d, pts: stats.map(s => [s.t, ((s.filesystem || []).find(f => f.device === d) || {}).usage]).filter(p => p[1] !== undefined) })),
    { fmt: bytes, base: 1024, empty: "no filesystems" });

  const psi = [["cpu", s => s.cpu && s.cpu.psi], ["memory", s => s.memory && s.memory.psi], ["io", s => s.diskio && s.diskio.psi]];
  const hasPSI = psi.filter(([, f]) => { const p = f(last); return p && p.some && p.some.total > 0; });
  chart("pressure", "Pressure (some, avg10)", hasPSI.map(([n, f]) => ({ name: n, pts: stats.map(s => [s.t, (f(s) || {}).some ? f(s).some.avg10 : 0]) })),
    { fmt: pct, empty: "the kernel reports no pressure here" });
}

let psSort = { key: "percent_cpu", desc: true };
let lastPS = [];
function renderPS(list) {
  lastPS = list;
  const k = psSort.key;
  list.sort((a, b) => (a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : 0) * (psSort.desc ? -1 : 1));
  $("#ps-count").textContent = "(" + list.length + (list.length > 300 ? ", first 300 shown" : "") + ")";
  $("#ps tbody").innerHTML = list.slice(0, 300).map(p => "<tr data-pid='" + p.pid + "'><td>" + esc(p.user) + "</td><td>" + p.pid + "</td><td>" + p.parent_pid +
    "</td><td>" + p.percent_cpu.toFixed(1) + "</td><td>" + p.percent_mem.toFixed(1) + "</td><td>" + bytes(p.rss) + "</td><td>" + bytes(p.virtual_size) +
    "</td><td>" + esc(p.status) + "</td><td>" + esc(p.running_time) + "</td><td class='cmd'>" + esc(p.cmd) + "</td></tr>").join("");
}
const psKeys = ["user", "pid", "parent_pid", "percent_cpu", "percent_mem", "rss", "virtual_size", "status", "running_time", "cmd"];

function status(text, err) { const s = $("#status"); s.textContent = text; s.classList.toggle("err", !!err); }

async function tick() {
  try {
    if (!document.hidden || !updates) {
      const path = enc(NAME);
      if (!machine) { machine = await api("/api/v1.3/machine"); renderMachine(); }
      const [info, ps] = await Promise.all([api("/api/v1.3/containers" + path, { num_stats: stats.length ? 3 : KEEP }), api("/api/v2.0/ps" + path).catch(e => ({ error: e.message }))]);
      spec = info.spec || {};
      renderLimits(spec);
      const seen = new Set(stats.map(s => s.timestamp));
      for (const s of info.stats || []) if (!seen.has(s.timestamp)) { s.t = ms(s.timestamp); stats.push(s); }
      stats.sort((a, b) => a.t - b.t);
      if (stats.length > KEEP) stats = stats.slice(stats.length - KEEP);
      if (stats.length) render();
      if (Array.isArray(ps)) renderPS(ps); else $("#ps-count").textContent = "(" + ps.error + ")";
      updates++;
      B.dataset.updates = String(updates);
      if (updates === 1) performance.mark("nm-rendered");
      status("updated " + clock(Date.now()) + " · every " + (IV >= 1000 ? IV / 1000 + " s" : IV + " ms"));
    }
  } catch (e) {
    status("update failed: " + e.message, true);
  }
  setTimeout(tick, IV);
}

// The filter box: matches on the text of every link list; "/" focuses it, Escape clears it,
// Enter opens the first match, arrow down moves into the lists.
const MAXSHOWN = 300;
function filter() {
  const q = $("#filter").value.trim().toLowerCase();
  for (const ul of $$("ul.links")) {
    let shown = 0;
    for (const li of ul.children) {
      if (li.classList.contains("more") || li.classList.contains("none")) continue;
      const hit = !q || li.textContent.toLowerCase().includes(q);
      li.classList.toggle("hidden", !hit || shown >= MAXSHOWN);
      if (hit) shown++;
    }
    let more = $("li.more", ul);
    if (shown > MAXSHOWN) {
      if (!more) { more = document.createElement("li"); more.className = "more"; ul.appendChild(more); }
      more.textContent = (shown - MAXSHOWN) + " more: refine the filter";
    } else if (more) more.remove();
  }
}
function visibleLinks() { return $$("ul.links li:not(.hidden) a"); }
document.addEventListener("keydown", e => {
  const f = $("#filter");
  if (e.key === "/" && document.activeElement !== f && !/INPUT|TEXTAREA/.test((document.activeElement || {}).tagName)) { e.preventDefault(); f.focus(); f.select(); }
  else if (document.activeElement === f) {
    if (e.key === "Escape") { f.value = ""; filter(); f.blur(); }
    else if (e.key === "Enter") { const a = visibleLinks()[0]; if (a) location.href = a.href; }
    else if (e.key === "ArrowDown") { const a = visibleLinks()[0]; if (a) { e.preventDefault(); a.focus(); } }
  } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    const links = visibleLinks(), i = links.indexOf(document.activeElement);
    if (i >= 0) { e.preventDefault(); const j = i + (e.key === "ArrowDown" ? 1 : -1); if (j < 0) f.focus(); else if (links[j]) links[j].focus(); }
  }
});
$("#filter").addEventListener("input", filter);
addEventListener("resize", () => { if (stats.length && spec) render(); });
filter();

if (NAME) {
  $$("#ps th").forEach((th, i) => {
    th.tabIndex = 0;
    const sort = () => { psSort = { key: psKeys[i], desc: psSort.key === psKeys[i] ? !psSort.desc : true }; $$("#ps th").forEach(h => h.removeAttribute("aria-sort")); th.setAttribute("aria-sort", psSort.desc ? "descending" : "ascending"); renderPS(lastPS); };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
  tick();
}
})();
"""#
}
