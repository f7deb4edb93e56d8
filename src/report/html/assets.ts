// The report page's style and its one script (filter and search of the
// jobs table), inlined so that the page is one file.

export const PAGE_STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --dim: #6e7781; --line: #d0d7de; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; }
header { padding: 12px 20px; border-bottom: 4px solid var(--ok); }
body.failed header, body.interrupted header { border-bottom-color: var(--bad); }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; } h3 { font-size: 14px; margin: 0 0 6px; }
main { padding: 0 20px 40px; }
.dim { color: var(--dim); } .ok { color: var(--ok); }
.status { display: inline-block; min-width: 56px; padding: 0 6px; border-radius: 10px; font-size: 12px; text-align: center; color: #fff; background: var(--dim); }
.status.passed { background: var(--ok); } .status.failed { background: var(--bad); } .status.aborted, .status.interrupted { background: var(--warn); }
.failure { border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.reason { color: var(--dim); margin: 2px 0; }
.script .what { margin: 6px 0 2px; }
pre { background: rgba(127,127,127,.1); padding: 8px; overflow: auto; max-height: 360px; white-space: pre-wrap; word-break: break-all; margin: 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
.controls { margin: 0 0 8px; } .controls input[type=search] { width: 320px; padding: 4px; } #shown { margin-left: 12px; color: var(--dim); }
svg.timeline { width: 100%; height: auto; font-size: 11px; }
svg .lane, svg .axis { fill: currentColor; } svg .axis.end { text-anchor: end; }
svg .grid { stroke: var(--line); }
svg .bar { fill: var(--ok); opacity: .85; } svg .bar.failed { fill: var(--bad); } svg .bar.running { fill: var(--warn); }
svg .bar.prepare, svg .bar.restore { opacity: .5; }
svg .bar.ignored, svg .bar.stopped { fill: var(--dim); }
svg .bar.wait { fill: #8250df; opacity: 1; } svg .bar.wait.failed { fill: var(--bad); }
svg line.marker { stroke: var(--dim); stroke-dasharray: 3 3; } svg text.marker { fill: var(--dim); font-size: 10px; }
.status.running { background: #0969da; } .status.ignored, .status.stopped, .status.killed { background: var(--warn); }
`;

export const PAGE_SCRIPT = `
(() => {
  const filters = () => ({
    search: document.getElementById("search"),
    boxes: [...document.querySelectorAll('input[name="status"]')],
    shown: document.getElementById("shown"),
  });
  const apply = () => {
    const { search, boxes, shown } = filters();
    if (!search) return;
    const table = document.querySelector("section.filterable");
    const rows = [...document.querySelectorAll("section.filterable tbody tr")];
    const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    const on = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
    let n = 0;
    for (const r of rows) {
      const show = on.has(r.dataset.status) && words.every((w) => r.dataset.search.includes(w));
      r.hidden = !show;
      if (show) n++;
    }
    shown.textContent = n + " of " + rows.length + " " + table.dataset.noun;
  };
  const wire = () => {
    const { search, boxes } = filters();
    search?.addEventListener("input", apply);
    for (const b of boxes) b.addEventListener("change", apply);
  };
  wire();
  apply();
  // The live dashboard: the same page, its parts replaced as the server sends them.
  const source = document.body.dataset.live;
  if (!source || !window.EventSource) return;
  const say = (text) => {
    let el = document.getElementById("live");
    if (!el) {
      el = document.createElement("p");
      el.id = "live";
      el.className = "dim";
    }
    document.querySelector("header").append(el);
    el.textContent = text;
  };
  const show = (parts) => {
    document.title = parts.title;
    document.body.className = parts.verdict;
    document.querySelector("header").innerHTML = parts.header;
    // The filters stay as they are (what is typed, what is ticked, the focus): only the rows change.
    const controls = document.querySelector("section.filterable .controls");
    const main = document.querySelector("main");
    main.innerHTML = parts.main;
    const fresh = main.querySelector("section.filterable .controls");
    if (controls && fresh) fresh.replaceWith(controls);
    else wire();
    apply();
  };
  const events = new EventSource(source);
  say("live: connecting");
  events.addEventListener("parts", (e) => {
    show(JSON.parse(e.data));
    say("live: updated " + new Date().toLocaleTimeString());
  });
  events.addEventListener("end", (e) => {
    events.close();
    show(JSON.parse(e.data));
    say("the run is over: this page no longer changes");
  });
  events.onerror = () => say("live: connection lost, retrying");
})();
`;
