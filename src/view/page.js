// loopsim view: draws a run (its events, lanes and per-pass loop states,
// embedded below as JSON by `loopsim view`) on a canvas. Only what is in
// view is drawn, so a run of 100k events scrolls as smoothly as one of ten.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const EV_W = 1;        // width of an event's column, in layout units
  const PASS_GAP = 0.7;  // extra room where a pass begins
  const GUTTER = 150;    // lane names, in CSS pixels
  const AXIS_H = 58;     // time and pass rows at the top
  const LANE_H = 28;
  const FAILURES = new Set(["check_failed", "invariant_violated", "budget"]);
  const COLORS = {
    call: "#2f6fe4", step: "#12a36b", log: "#8a94a8", done: "#7b4fd6", error: "#e67e22",
    exception: "#e67e22", stop: "#455a7a", returned: "#455a7a", idle: "#455a7a",
    got: "#0f9fb5", caught: "#e67e22", fail: "#d7263d",
  };
  const LANE_COLORS = { main: "#455a7a", task: "#12a36b", callback: "#2f6fe4", future: "#7b4fd6", loop: "#8a94a8" };

  // ----- time, as the trace writes it (`1.0`, `0.25`, `86400.0`) -----
  function secs(ns) {
    const neg = ns < 0, abs = Math.abs(ns);
    const whole = Math.floor(abs / 1e9);
    let frac = String(abs - whole * 1e9).padStart(9, "0").replace(/0+$/, "");
    if (frac === "") frac = "0";
    return (neg ? "-" : "") + whole + "." + frac;
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }

  // ----- layout: x of every event and pass start, in units -----
  const N = D.events.length;
  const evX = new Float64Array(N);
  const passX = new Float64Array(D.passes.length);
  const passEndX = new Float64Array(D.passes.length);
  const passOf = new Int32Array(N).fill(-1);
  (function layout() {
    let x = 0, p = 0;
    for (let i = 0; i <= N; i++) {
      while (p < D.passes.length && D.passes[p].at <= i) { passX[p] = x; x += PASS_GAP; p++; }
      if (i < N) { evX[i] = x; x += EV_W; }
    }
    for (let q = 0; q < D.passes.length; q++) {
      const pass = D.passes[q];
      const end = pass.end;
      passEndX[q] = end < N ? evX[end] - 0.15 : x;
      if (q + 1 < D.passes.length) passEndX[q] = Math.min(passEndX[q], passX[q + 1]);
      passEndX[q] = Math.max(passEndX[q], passX[q] + PASS_GAP * 0.8);
      for (let i = pass.at; i < end; i++) passOf[i] = q;
    }
    layout.total = x + 1;
  })();
  // Where the next event of the same lane is: a mark's label may run until there.
  const nextInLane = new Float64Array(N);
  (function () {
    const last = new Map();
    for (let i = N - 1; i >= 0; i--) {
      const lane = D.events[i][3];
      nextInLane[i] = last.has(lane) ? evX[last.get(lane)] : Infinity;
      last.set(lane, i);
    }
  })();
  const TOTAL = Math.max(1, evX.length ? evX[N - 1] + 2 : 1, D.passes.length ? passEndX[D.passes.length - 1] + 1 : 1);

  // ----- the page around the canvas -----
  document.getElementById("file").textContent = D.file;
  document.getElementById("reproduce").textContent = D.reproduce;
  document.getElementById("settings").innerHTML = D.settings
    .map(([k, v]) => `<span class="chip">${esc(k)} <b>${esc(v)}</b></span>`).join("");
  if (D.failure) {
    const f = document.getElementById("failure");
    f.hidden = false;
    f.textContent = "failed: " + D.failure;
  }
  document.getElementById("counts").textContent =
    `${N} events · ${D.passes.length} passes · ${D.lanes.length} lanes`;
  document.getElementById("legend").innerHTML = [
    ["call", "callback runs"], ["step", "task step"], ["log", "log"], ["done", "done"],
    ["error", "error / exception"], ["stop", "stop / returned"], ["fail", "failure"],
  ].map(([k, t]) => `<span><i style="background:${COLORS[k]}"></i>${t}</span>`).join("");
  const sourceBox = document.getElementById("source");
  sourceBox.innerHTML = D.source
    .map((l, i) => `<span id="L${i + 1}"><span class="ln">${i + 1}</span>${esc(l)}</span>`).join("");

  // ----- view state -----
  const canvas = document.getElementById("timeline");
  const ctx = canvas.getContext("2d");
  let scale = 40;          // pixels per unit
  let left = 0;            // first visible unit
  let selected = -1;       // selected pass
  let hovered = -1;        // hovered event
  let drawn = 0;           // marks drawn by the last frame
  let width = 0, height = 0;
  const scrollBar = document.getElementById("scroll");

  function viewUnits() { return Math.max(1, (width - GUTTER) / scale); }
  function clampLeft() { left = Math.max(0, Math.min(left, Math.max(0, TOTAL - viewUnits()))); }
  function fit() { scale = Math.max(0.02, (width - GUTTER - 8) / TOTAL); left = 0; }
  function laneY(l) { return AXIS_H + l * LANE_H + LANE_H / 2; }
  function xOf(u) { return GUTTER + (u - left) * scale; }
  function firstAtOrAfter(arr, u, n) {
    let lo = 0, hi = n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (arr[m] < u) lo = m + 1; else hi = m; }
    return lo;
  }
  function kindColor(e) { return FAILURES.has(e[2]) ? COLORS.fail : (COLORS[e[2]] || "#8a94a8"); }

  function resize() {
    const box = canvas.parentElement.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    width = box.width; height = box.height;
    canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  let pending = false;
  function redraw() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); } }

  function draw() {
    clampLeft();
    ctx.clearRect(0, 0, width, height);
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    const right = left + viewUnits();
    const lanesBottom = Math.min(height, AXIS_H + D.lanes.length * LANE_H);
    // lane stripes
    for (let l = 0; l < D.lanes.length; l++) {
      if (l % 2 === 0) { ctx.fillStyle = "#f7f8fb"; ctx.fillRect(GUTTER, AXIS_H + l * LANE_H, width - GUTTER, LANE_H); }
    }
    // passes: columns, clock jumps, labels
    const p0 = Math.max(0, firstAtOrAfter(passEndX, left, D.passes.length));
    let lastTimeLabel = -1e9, lastPassLabel = -1e9, lastNow = null;
    if (p0 > 0) lastNow = D.passes[p0 - 1].now;
    for (let q = p0; q < D.passes.length && passX[q] <= right; q++) {
      const pass = D.passes[q];
      const x0 = xOf(passX[q]), x1 = xOf(passEndX[q]);
      ctx.fillStyle = q === selected ? "rgba(47,111,228,0.13)" : (pass.it % 2 ? "rgba(60,70,100,0.035)" : "rgba(0,0,0,0)");
      ctx.fillRect(x0, 20, Math.max(1, x1 - x0), lanesBottom - 20);
      ctx.strokeStyle = q === selected ? "#2f6fe4" : "#dfe3ea";
      ctx.lineWidth = q === selected ? 1.5 : 1;
      ctx.beginPath(); ctx.moveTo(x0 + 0.5, 20); ctx.lineTo(x0 + 0.5, lanesBottom); ctx.stroke();
      const jumped = pass.now !== pass.t;
      if (jumped) {
        ctx.fillStyle = "#f08c00";
        ctx.fillRect(x0 - 1, 20, Math.max(3, Math.min(8, scale * PASS_GAP * 0.5)), lanesBottom - 20);
      }
      // time row: the clock when the pass runs its callbacks
      if (lastNow === null || pass.now !== lastNow || q === p0) {
        const label = jumped ? `+${secs(pass.now - pass.t)}s ⟶ t=${secs(pass.now)}` : "t=" + secs(pass.now);
        const w = ctx.measureText(label).width;
        if (x0 >= lastTimeLabel + 6) {
          ctx.fillStyle = jumped ? "#b86400" : "#1d2330";
          ctx.font = jumped ? "bold 12px system-ui, sans-serif" : "12px system-ui, sans-serif";
          ctx.fillText(label, Math.max(GUTTER + 2, x0 + 2), 10);
          ctx.font = "12px system-ui, sans-serif";
          lastTimeLabel = Math.max(GUTTER + 2, x0 + 2) + w;
        }
      }
      lastNow = pass.now;
      // pass row
      const plabel = "#" + pass.it + (pass.loop ? "·L" + pass.loop : "");
      if (x0 >= lastPassLabel + 4) {
        ctx.fillStyle = q === selected ? "#2f6fe4" : "#6b7385";
        ctx.fillText(plabel, Math.max(GUTTER + 2, x0 + 3), 30);
        lastPassLabel = Math.max(GUTTER + 2, x0 + 3) + ctx.measureText(plabel).width;
      }
      // tied timers: a badge on the row below
      if (pass.ties.length && x1 - x0 > 14) {
        const n = pass.ties.reduce((a, t) => a + t[1].length, 0);
        ctx.fillStyle = "#8e44ad";
        const label = x1 - x0 > 60 ? `⚖ ${n} tied` : "⚖";
        ctx.fillText(label, Math.max(GUTTER + 2, x0 + 3), 46);
      } else if (pass.ties.length) {
        ctx.fillStyle = "#8e44ad"; ctx.fillRect(x0 + 1, 42, 4, 8);
      }
    }
    // events
    const i0 = Math.max(0, firstAtOrAfter(evX, left - EV_W, N));
    const markW = Math.max(1.5, Math.min(scale * EV_W - 3, 22));
    drawn = 0;
    for (let i = i0; i < N && evX[i] <= right; i++) {
      const e = D.events[i];
      const cx = xOf(evX[i] + EV_W / 2);
      const y = laneY(e[3]);
      if (y > height) continue;
      const fail = FAILURES.has(e[2]);
      ctx.fillStyle = kindColor(e);
      const h = e[2] === "log" ? 10 : 16;
      roundRect(cx - markW / 2, y - h / 2, markW, h, Math.min(4, markW / 3));
      if (fail || i === hovered) {
        ctx.strokeStyle = fail ? "#7a0010" : "#1d2330"; ctx.lineWidth = 2;
        ctx.strokeRect(cx - markW / 2 - 2, y - h / 2 - 2, markW + 4, h + 4);
      }
      drawn++;
      // text beside the mark when there is room
      if (scale > 40 && e[2] !== "call" && e[2] !== "step") {
        ctx.fillStyle = fail ? "#b0001a" : "#1d2330";
        const text = shortText(e);
        const room = Math.min(width, (nextInLane[i] - evX[i]) * scale) - markW / 2 - scale * EV_W / 2 - 6;
        ctx.save();
        ctx.beginPath(); ctx.rect(cx + markW / 2 + 2, y - 9, room, 18); ctx.clip();
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(text, cx + markW / 2 + 3, y + 1);
        ctx.restore();
      }
    }
    // lane names on top of everything, left
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, GUTTER, height);
    ctx.strokeStyle = "#dfe3ea"; ctx.beginPath(); ctx.moveTo(GUTTER + 0.5, 0); ctx.lineTo(GUTTER + 0.5, height); ctx.stroke();
    ctx.fillStyle = "#6b7385"; ctx.font = "11px system-ui, sans-serif";
    ctx.fillText("virtual time", 8, 10); ctx.fillText("pass", 8, 30); ctx.fillText("ties", 8, 46);
    for (let l = 0; l < D.lanes.length; l++) {
      const y = laneY(l);
      if (y > height) break;
      const [name, kind] = D.lanes[l];
      ctx.fillStyle = LANE_COLORS[kind] || "#455a7a";
      ctx.fillRect(8, y - 5, 4, 10);
      ctx.fillStyle = "#1d2330"; ctx.font = "12.5px system-ui, sans-serif";
      const label = name.length > 16 ? name.slice(0, 15) + "…" : name;
      ctx.fillText(label, 17, y);
      ctx.fillStyle = "#9aa2b3"; ctx.font = "10.5px system-ui, sans-serif";
      ctx.fillText(kind, GUTTER - 8 - ctx.measureText(kind).width, y);
    }
    ctx.strokeStyle = "#dfe3ea"; ctx.beginPath(); ctx.moveTo(0, AXIS_H - 4.5); ctx.lineTo(width, AXIS_H - 4.5); ctx.stroke();
    scrollBar.value = String(Math.round(1000 * left / Math.max(1e-9, TOTAL - viewUnits())));
    status();
  }
  function roundRect(x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y); ctx.lineTo(x + w - r, y); ctx.quadraticCurveTo(x + w, y, x + w, y + r);
    ctx.lineTo(x + w, y + h - r); ctx.quadraticCurveTo(x + w, y + h, x + w - r, y + h);
    ctx.lineTo(x + r, y + h); ctx.quadraticCurveTo(x, y + h, x, y + h - r);
    ctx.lineTo(x, y + r); ctx.quadraticCurveTo(x, y, x + r, y);
    ctx.fill();
  }
  function shortText(e) {
    const t = e[5];
    const sp = t.indexOf(" ");
    if (e[2] === "call" || e[2] === "step") return e[2];
    return sp < 0 ? t : t.slice(0, sp) + " " + t.slice(sp + 1).replace(/^[a-z_]+=/, "");
  }

  // ----- hover and selection -----
  const tip = document.getElementById("tooltip");
  function eventAt(mx, my) {
    if (mx < GUTTER || my < AXIS_H) return -1;
    const u = left + (mx - GUTTER) / scale;
    const lane = Math.floor((my - AXIS_H) / LANE_H);
    let i = firstAtOrAfter(evX, u - EV_W, N);
    let best = -1, bestD = 1e9;
    for (; i < N && evX[i] <= u + EV_W; i++) {
      if (D.events[i][3] !== lane) continue;
      const d = Math.abs(xOf(evX[i] + EV_W / 2) - mx);
      if (d < bestD && d <= Math.max(8, scale * EV_W / 2)) { best = i; bestD = d; }
    }
    return best;
  }
  function passAt(mx) {
    const u = left + (mx - GUTTER) / scale;
    let q = firstAtOrAfter(passX, u + 1e-9, D.passes.length) - 1;
    return q >= 0 && u <= passEndX[q] + 0.3 ? q : -1;
  }
  function describeEvent(i) {
    const e = D.events[i];
    const [name, kind] = D.lanes[e[3]];
    const fail = FAILURES.has(e[2]);
    const line = e[4] ? `<div><span class="k">line ${e[4]}:</span> <code>${esc((D.source[e[4] - 1] || "").trim())}</code></div>` : "";
    return `<div class="${fail ? "fail" : ""}">#${e[0]} t=${secs(e[1])} ${esc(e[5])}</div>` +
      `<div><span class="k">iteration</span> ${e[0]} · <span class="k">time</span> ${secs(e[1])} s · <span class="k">${kind}</span> ${esc(name)}</div>` + line;
  }
  canvas.addEventListener("mousemove", (ev) => {
    const r = canvas.getBoundingClientRect();
    const i = eventAt(ev.clientX - r.left, ev.clientY - r.top);
    if (i !== hovered) { hovered = i; redraw(); }
    if (i < 0) { tip.hidden = true; markLine(0); return; }
    tip.innerHTML = describeEvent(i);
    tip.hidden = false;
    const tx = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    tip.style.left = tx + "px"; tip.style.top = (ev.clientY + 16) + "px";
    markLine(D.events[i][4]);
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; hovered = -1; markLine(0); redraw(); });
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    const mx = ev.clientX - r.left;
    const i = eventAt(mx, ev.clientY - r.top);
    const q = i >= 0 && passOf[i] >= 0 ? passOf[i] : passAt(mx);
    if (q >= 0) select(q);
  });
  let curLine = 0;
  function markLine(line) {
    if (curLine) { const el = document.getElementById("L" + curLine); if (el) el.classList.remove("cur"); }
    curLine = line;
    if (line) { const el = document.getElementById("L" + line); if (el) el.classList.add("cur"); }
  }
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey) {
      const mx = ev.clientX - r.left;
      const u = left + (mx - GUTTER) / scale;
      scale = Math.max(0.02, Math.min(400, scale * Math.exp(-ev.deltaY * 0.002)));
      left = u - (mx - GUTTER) / scale;
    } else {
      left += (Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : ev.deltaY) / scale;
    }
    redraw();
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, left }; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (ev) => {
    if (drag && Math.abs(ev.clientX - drag.x) > 3) { left = drag.left - (ev.clientX - drag.x) / scale; redraw(); }
  });
  scrollBar.addEventListener("input", () => { left = (TOTAL - viewUnits()) * Number(scrollBar.value) / 1000; redraw(); });
  document.getElementById("zoom-in").onclick = () => zoom(1.6);
  document.getElementById("zoom-out").onclick = () => zoom(1 / 1.6);
  document.getElementById("fit").onclick = () => { fit(); redraw(); };
  document.getElementById("prev").onclick = () => select(Math.max(0, selected - 1), true);
  document.getElementById("next").onclick = () => select(Math.min(D.passes.length - 1, selected + 1), true);
  window.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowLeft") select(Math.max(0, selected - 1), true);
    if (ev.key === "ArrowRight") select(Math.min(D.passes.length - 1, selected + 1), true);
  });
  function zoom(f) {
    const mid = left + viewUnits() / 2;
    scale = Math.max(0.02, Math.min(400, scale * f));
    left = mid - viewUnits() / 2;
    redraw();
  }

  // ----- the selected pass's state -----
  function timerText(t) {
    return `<code>t=${secs(t[0])}</code> ${esc(t[1])}`;
  }
  function more(n, shown) { return n > shown ? `<li class="empty">… and ${n - shown} more</li>` : ""; }
  function select(q, reveal) {
    if (q < 0 || q >= D.passes.length) return;
    selected = q;
    const p = D.passes[q];
    if (reveal && (passX[q] < left || passX[q] > left + viewUnits() * 0.9)) left = passX[q] - viewUnits() * 0.3;
    const loopName = p.loop ? `loop ${p.loop}` : "loop main";
    document.getElementById("pass-title").textContent = `Pass #${p.it} · ${loopName} · t=${secs(p.now)}`;
    const due = new Set(p.due.map((t) => t[0] + "\u0000" + t[1]));
    let h = "";
    if (p.now !== p.t) {
      h += `<div class="jumpnote">Nothing was ready, so the loop waited for its earliest timer: ` +
        `the clock jumped from t=${secs(p.t)} to t=${secs(p.now)} (+${secs(p.now - p.t)} s).</div>`;
    }
    h += `<p class="note">What the loop held when this pass began. The ready queue runs in order; ` +
      `what those callbacks schedule waits for the next pass.</p>`;
    h += `<h3>Ready queue <span class="hint">(runs this pass)</span></h3>`;
    h += p.ready.length ? "<ol>" + p.ready.map((r) => `<li>${esc(r)}</li>`).join("") + more(p.readyN, p.ready.length) + "</ol>"
      : `<div class="empty">empty</div>`;
    h += `<h3>Timers <span class="hint">(in the order ${esc(p.order)} pops them)</span></h3>`;
    h += p.timers.length ? "<ol>" + p.timers.map((t) => {
      const isDue = due.has(t[0] + "\u0000" + t[1]) && !t[2];
      return `<li class="${t[2] ? "cancelled" : ""}">${timerText(t)}${t[2] ? " (cancelled)" : ""}${isDue ? '<span class="due">due this pass</span>' : ""}</li>`;
    }).join("") + more(p.timersN, p.timers.length) + "</ol>" : `<div class="empty">none</div>`;
    if (p.ties.length) {
      h += `<h3>Tied timers <span class="hint">(one deadline, due together)</span></h3>`;
      h += p.ties.map(([when, names]) => `<div class="tie"><b>${names.length} at t=${secs(when)}</b>: ` +
        names.map(esc).join(" → ") + ` <span class="muted">(the order ${esc(p.order)} chose)</span></div>`).join("");
    }
    const names = p.ready.concat(p.timers.map((t) => t[1]));
    const notes = [];
    if (names.some((n) => n.startsWith("step "))) notes.push("<b>step T</b>: task T's next step (<code>Task.__step</code>): it runs T's code up to its next <code>await</code>.");
    if (names.some((n) => n.startsWith("wake "))) notes.push("<b>wake T</b>: the timer of T's <code>sleep</code>. When it fires it only schedules <b>step T</b>, which runs in the next pass.");
    if (names.some((n) => n.startsWith("stop "))) notes.push("<b>stop (run_until_complete)</b>: the done callback <code>run_until_complete</code> put on its future; it stops the loop after this pass.");
    if (notes.length) h += notes.map((n) => `<p class="note">${n}</p>`).join("");
    h += `<h3>Tasks <span class="hint">(pending, and what each awaits)</span></h3>`;
    h += p.tasks.length ? "<ul>" + p.tasks.map(([n, w]) => `<li><b>${esc(n)}</b>: ${esc(w)}</li>`).join("") + more(p.tasksN, p.tasks.length) + "</ul>"
      : `<div class="empty">none</div>`;
    h += `<h3>Events of this pass</h3>`;
    const evs = [];
    for (let i = p.at; i < p.end && evs.length < 200; i++) {
      const e = D.events[i];
      evs.push(`<li class="${FAILURES.has(e[2]) ? "ev-fail" : ""}"><code>${esc(e[5])}</code>${e[4] ? ` <span class="muted">line ${e[4]}</span>` : ""}</li>`);
    }
    h += evs.length ? `<ul>${evs.join("")}</ul>` : `<div class="empty">none (this pass only waited or moved timers)</div>`;
    document.getElementById("pass-body").innerHTML = h;
    // the scenario lines this pass ran
    document.querySelectorAll(".source span.hot").forEach((el) => el.classList.remove("hot"));
    for (let i = p.at; i < p.end; i++) {
      const line = D.events[i][4];
      const el = line && document.getElementById("L" + line);
      if (el) el.classList.add("hot");
    }
    redraw();
  }

  // ----- what tests read -----
  function status() {
    const s = document.getElementById("status");
    s.dataset.events = String(N);
    s.dataset.marks = String(N);
    s.dataset.drawn = String(drawn);
    s.dataset.passes = String(D.passes.length);
    s.dataset.selected = selected >= 0 ? String(D.passes[selected].it) : "";
    s.dataset.errors = String(window.__loopsimErrors.length);
    s.textContent = window.__loopsimErrors.join("\n");
  }

  resize();
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has("fit") || (TOTAL * 56 <= width - GUTTER)) {
    fit();
    scale = hash.has("fit") ? scale : Math.min(scale, 120);
  } else {
    scale = 48;
  }
  const wanted = hash.has("pass") ? Number(hash.get("pass")) : null;
  let start = D.passes.findIndex((p) => p.it === wanted);
  if (start < 0) start = D.passes.findIndex((p) => p.ties.length > 0 || p.now !== p.t);
  if (start < 0 && D.passes.length) start = 0;
  if (start >= 0) select(start, wanted !== null);
  draw();
  window.addEventListener("resize", () => { resize(); redraw(); });
})();
