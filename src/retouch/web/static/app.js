/* retouch web app: one page, no build step, no external files.
 *
 * The server holds the full-resolution image; the page shows a downscaled
 * preview and sends every coordinate in full-resolution image pixels
 * (preview pixel / scale). All marking and filling runs on the server through
 * the registry's methods; the page draws, collects gestures and shows state.
 */
(() => {
  "use strict";

  // ------------------------------------------------------------------ tiny helpers
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const fmtPct = (f) => (f === 0 ? "0 %" : f < 0.001 ? "< 0.1 %" : (100 * f).toFixed(f < 0.1 ? 2 : 1) + " %");
  const plain = (t) => String(t || "").replace(/``/g, "").replace(/:\w+:`([^`]*)`/g, "$1");
  const plural = (n, w) => `${n} ${w}${n === 1 ? "" : "s"}`;

  const ICONS = {
    box: '<rect x="4" y="5" width="16" height="14" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-dasharray="3 2"/><path d="M9 14c1-3 5-3 6 0" fill="none" stroke="currentColor" stroke-width="1.6"/><circle cx="12" cy="10" r="2" fill="currentColor"/>',
    clicks: '<path d="M6 3v11l3-3 2.5 5 2-1-2.5-5H15z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/><path d="M17 5v6M14 8h6" stroke="currentColor" stroke-width="1.8"/>',
    wand: '<path d="m4 20 11-11M14 4v3M18 5l-2 2M20 10h-3M11 6 9.5 4.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" fill="none"/><path d="m13 8 3 3" stroke="currentColor" stroke-width="3" stroke-linecap="round"/>',
    color: '<path d="m14 4 6 6-2 2-6-6zM12 8l-7 7v4h4l7-7" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linejoin="round"/>',
    threshold: '<path d="M3 19h18M5 19V14M8 19V9M11 19V6M14 19V11M17 19V15M20 19v-2" stroke="currentColor" stroke-width="1.8"/><path d="M12.5 3v18" stroke="currentColor" stroke-width="1.2" stroke-dasharray="2 2"/>',
    superpixel: '<path d="M3 8l5-4 6 2 6-1v7l-5 3-4 5-7-3zM8 4l1 7 5-5M9 11l-6 3M9 11l6 3 5-2M15 14v3" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>',
    detect: '<circle cx="10.5" cy="10.5" r="6" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="m15 15 5 5M8 9l2 3 2-3" stroke="currentColor" stroke-width="1.8" fill="none" stroke-linecap="round"/>',
    lasso: '<path d="M6 15c-3-2-2-8 5-9s9 4 6 7-9 3-11 2zM6 15l-1 5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round"/>',
    brush: '<path d="M20 4 10 14M8 15c-3 0-4 2-4 5 3 0 5-1 5-4z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/><path d="m10 14 1.5 1.5" stroke="currentColor" stroke-width="3"/>',
    eraser: '<path d="m4 15 9-9 6 6-7 7H7zM9 10l6 6M11 19h9" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linejoin="round"/>',
  };

  // ------------------------------------------------------------------ state
  const A = {
    config: null,
    s: null,              // SessionState from the server
    tool: null,
    mode: "add",
    view: { zoom: 1, ox: 0, oy: 0, fitted: true },
    img: { current: null, original: null, overlay: null },
    loaded: { version: -1, image: -1 },
    showMask: true,
    compare: false, split: 0.5, holdOriginal: false,
    gesture: null,        // the drag in progress
    hover: null,          // last pointer position (canvas px)
    space: false,
    brush: 12,
    busy: 0,
    job: null,
    forms: {},            // per tool: settings form
    threshold: { value: 128, invert: false, hist: null, lum: null, lumFor: -1, pending: null },
    picked: null,
    outline: null,        // superpixel borders (preview size)
  };

  const canvas = $("view");
  const ctx = canvas.getContext("2d");

  // ------------------------------------------------------------------ API
  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }
  async function api(method, path, body, { form = false, quiet = false } = {}) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      if (form) opts.body = body;
      else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    }
    const res = await fetch(path, opts);
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const detail = (data && data.detail) || `${res.status} ${res.statusText}`;
      if (res.status === 404 && A.s && path.startsWith(`/api/sessions/${A.s.id}`) && /unknown or has expired/.test(detail)) {
        sessionLost(detail);
      }
      throw new ApiError(res.status, typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return data;
  }
  const sp = (rest = "") => `/api/sessions/${A.s.id}${rest}`;

  async function busyDo(label, fn) {
    A.busy++;
    const t = setTimeout(() => { $("busy-text").textContent = label + "…"; $("busy-ind").hidden = false; }, 150);
    document.body.dataset.busy = "1";
    try { return await fn(); }
    catch (e) { showError(e); return null; }
    finally {
      clearTimeout(t);
      A.busy--;
      if (!A.busy) { $("busy-ind").hidden = true; if (!A.job) document.body.dataset.busy = "0"; }
    }
  }

  // ------------------------------------------------------------------ messages
  let toastTimer = null;
  function toast(text, kind = "error") {
    const t = $("toast");
    t.textContent = text;
    t.className = "toast " + kind;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, kind === "error" ? 7000 : 3000);
  }
  function status(text, error = false) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("error", error);
  }
  function showError(e) {
    const msg = e instanceof Error ? e.message : String(e);
    status(msg, true);
    toast(msg, "error");
  }
  function sessionLost(detail) {
    A.s = null;
    A.img = { current: null, original: null, overlay: null };
    document.body.dataset.session = "";
    $("empty").hidden = false;
    refreshUi();
    draw();
    status(detail, true);
  }

  // ------------------------------------------------------------------ images
  function loadImage(url) {
    return new Promise((resolve, reject) => {
      const im = new Image();
      im.onload = () => resolve(im);
      im.onerror = () => reject(new Error("could not load " + url));
      im.src = url;
    });
  }

  async function applyState(st, { quiet = false } = {}) {
    if (!st) return;
    const first = !A.s || A.s.id !== st.id;
    if (!first && st.version < A.s.version) return;  // an older answer arriving late
    A.s = st;
    const jobs = [];
    if (first || A.loaded.image !== st.image_version) {
      jobs.push(loadImage(sp(`/preview?v=${st.image_version}`)).then((im) => { A.img.current = im; A.loaded.image = st.image_version; }));
    }
    if (first || A.loaded.version !== st.version) {
      jobs.push(loadImage(sp(`/overlay?v=${st.version}`)).then((im) => { A.img.overlay = im; A.loaded.version = st.version; }));
    }
    if (!A.img.original) {
      jobs.push(loadImage(sp(`/preview?which=original`)).then((im) => { A.img.original = im; }).catch(() => {}));
    }
    await Promise.all(jobs);
    if (first) {
      fit();
      A.threshold.hist = null; A.threshold.lumFor = -1;
      A.brush = Math.max(3, Math.round(Math.max(st.width, st.height) / 100));
      if (A.tool === "brush" || A.tool === "eraser") buildToolBody(toolInfo(A.tool));
    }
    if (st.message && !quiet) status(st.message + (st.elapsed_ms != null ? ` (${st.elapsed_ms < 1000 ? Math.round(st.elapsed_ms) + " ms" : (st.elapsed_ms / 1000).toFixed(1) + " s"})` : ""));
    const d = document.body.dataset;
    d.session = st.id; d.version = st.version; d.imageVersion = st.image_version; d.maskPixels = st.mask_pixels;
    d.fills = st.fills; d.canUndo = st.can_undo ? "1" : "0"; d.canRedo = st.can_redo ? "1" : "0";
    d.ready = "1";
    try { sessionStorage.setItem("retouch-session", st.id); } catch (e) { /* storage off */ }
    refreshUi();
    if (A.tool === "threshold") {
      if (A.threshold.histFor !== st.image_version) enterThreshold();
      else updateThresholdPreview();
    }
    if (A.tool === "superpixel" && A.outlineFor !== st.image_version) loadOutline();
    draw();
  }

  // ------------------------------------------------------------------ view geometry
  function resize() {
    const r = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    if (A.view.fitted) fit(false);
    draw();
  }
  function fit(redraw = true) {
    if (!A.s) return;
    const r = canvas.getBoundingClientRect();
    const pad = 24;
    const z = Math.min((r.width - 2 * pad) / A.s.preview_width, (r.height - 2 * pad) / A.s.preview_height);
    A.view.zoom = Math.max(0.02, z);
    A.view.ox = (r.width - A.s.preview_width * A.view.zoom) / 2;
    A.view.oy = (r.height - A.s.preview_height * A.view.zoom) / 2;
    A.view.fitted = true;
    if (redraw) draw();
  }
  function zoomAt(factor, cx, cy) {
    const v = A.view;
    const z = clamp(v.zoom * factor, 0.02, 32);
    v.ox = cx - (cx - v.ox) * (z / v.zoom);
    v.oy = cy - (cy - v.oy) * (z / v.zoom);
    v.zoom = z;
    v.fitted = false;
    draw();
  }
  // canvas CSS px <-> image px
  const toImage = (cx, cy) => [(cx - A.view.ox) / A.view.zoom / A.s.scale, (cy - A.view.oy) / A.view.zoom / A.s.scale];
  const toCanvas = (x, y) => [x * A.s.scale * A.view.zoom + A.view.ox, y * A.s.scale * A.view.zoom + A.view.oy];
  const imgPerCss = () => 1 / (A.view.zoom * A.s.scale);
  function eventPos(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  const inside = ([x, y]) => x >= 0 && y >= 0 && x < A.s.width && y < A.s.height;
  const clampImg = ([x, y]) => [clamp(x, 0, A.s.width - 0.001), clamp(y, 0, A.s.height - 0.001)];

  // ------------------------------------------------------------------ drawing
  function checker() {
    const c = document.createElement("canvas");
    c.width = c.height = 16;
    const g = c.getContext("2d");
    g.fillStyle = "#2a2d33"; g.fillRect(0, 0, 16, 16);
    g.fillStyle = "#34383f"; g.fillRect(0, 0, 8, 8); g.fillRect(8, 8, 8, 8);
    return ctx.createPattern(c, "repeat");
  }
  let checkerPattern = null;

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!A.s || !A.img.current) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const v = A.view, pw = A.s.preview_width * v.zoom, ph = A.s.preview_height * v.zoom;
    ctx.imageSmoothingEnabled = v.zoom < 2;
    ctx.imageSmoothingQuality = "high";
    if (!checkerPattern) checkerPattern = checker();
    ctx.fillStyle = checkerPattern;
    ctx.fillRect(v.ox, v.oy, pw, ph);
    const before = A.img.original || A.img.current;
    if (A.holdOriginal) {
      ctx.drawImage(before, v.ox, v.oy, pw, ph);
    } else {
      ctx.drawImage(A.img.current, v.ox, v.oy, pw, ph);
      if (A.compare) {
        const sx = v.ox + pw * A.split;
        ctx.save();
        ctx.beginPath(); ctx.rect(v.ox, v.oy, pw * A.split, ph); ctx.clip();
        ctx.drawImage(before, v.ox, v.oy, pw, ph);
        ctx.restore();
      }
      if (A.showMask && A.img.overlay) ctx.drawImage(A.img.overlay, v.ox, v.oy, pw, ph);
      if (A.threshold.pending && A.tool === "threshold") ctx.drawImage(A.threshold.pending, v.ox, v.oy, pw, ph);
      if (A.outline && A.tool === "superpixel") ctx.drawImage(A.outline, v.ox, v.oy, pw, ph);
    }
    ctx.strokeStyle = "rgba(255,255,255,.08)";
    ctx.lineWidth = 1;
    ctx.strokeRect(v.ox - 0.5, v.oy - 0.5, pw + 1, ph + 1);
    if (A.compare && !A.holdOriginal) drawDivider(v.ox + pw * A.split, v.oy, ph);
    const labels = $("compare-labels");
    if (A.compare) {
      const r = canvas.getBoundingClientRect(), stage = $("stage").getBoundingClientRect();
      const left = Math.max(0, v.ox + r.left - stage.left), right = Math.min(stage.width, v.ox + pw + r.left - stage.left);
      labels.style.left = `${left}px`; labels.style.width = `${Math.max(0, right - left)}px`; labels.style.right = "auto";
      labels.style.top = `${Math.max(0, v.oy + r.top - stage.top) + 8}px`;
    }
    drawGesture();
    drawClicks();
    drawCursor();
  }

  function drawDivider(x, y, h) {
    ctx.save();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
    ctx.shadowColor = "rgba(0,0,0,.6)"; ctx.shadowBlur = 4;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x, y + h); ctx.stroke();
    const cy = y + h / 2;
    ctx.fillStyle = "#fff";
    ctx.beginPath(); ctx.arc(x, cy, 13, 0, Math.PI * 2); ctx.fill();
    ctx.shadowBlur = 0;
    ctx.fillStyle = "#1f2329";
    ctx.beginPath(); ctx.moveTo(x - 8, cy); ctx.lineTo(x - 3, cy - 5); ctx.lineTo(x - 3, cy + 5); ctx.fill();
    ctx.beginPath(); ctx.moveTo(x + 8, cy); ctx.lineTo(x + 3, cy - 5); ctx.lineTo(x + 3, cy + 5); ctx.fill();
    ctx.restore();
  }

  function drawGesture() {
    const g = A.gesture;
    if (!g) return;
    ctx.save();
    const sub = g.mode === "subtract";
    const col = sub ? "#ff7aa2" : "#7fb2ff";
    if (g.kind === "box") {
      const [x0, y0] = toCanvas(...g.a), [x1, y1] = toCanvas(...g.b);
      ctx.fillStyle = sub ? "rgba(255,80,130,.12)" : "rgba(77,141,255,.12)";
      ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.setLineDash([6, 4]); ctx.strokeStyle = col; ctx.lineWidth = 1.5;
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      const w = Math.round(Math.abs(g.b[0] - g.a[0])), h = Math.round(Math.abs(g.b[1] - g.a[1]));
      ctx.setLineDash([]); ctx.font = "11px system-ui"; ctx.fillStyle = "#fff";
      ctx.fillText(`${w} × ${h}`, Math.min(x0, x1) + 4, Math.min(y0, y1) - 6);
    } else if (g.kind === "lasso" || g.kind === "stroke") {
      if (g.points.length) {
        ctx.beginPath();
        g.points.forEach((p, i) => { const [x, y] = toCanvas(...p); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
        if (g.kind === "lasso") {
          ctx.closePath();
          ctx.fillStyle = sub ? "rgba(255,80,130,.15)" : "rgba(77,141,255,.15)"; ctx.fill();
          ctx.setLineDash([5, 4]); ctx.strokeStyle = col; ctx.lineWidth = 1.5; ctx.stroke();
        } else {
          ctx.lineCap = "round"; ctx.lineJoin = "round";
          ctx.strokeStyle = sub ? "rgba(30,30,30,.55)" : "rgba(255,45,94,.55)";
          ctx.lineWidth = 2 * g.radius / imgPerCss();
          ctx.stroke();
        }
      }
    }
    ctx.restore();
  }

  function drawClicks() {
    if (A.tool !== "clicks" || !A.s || !A.s.clicks) return;
    for (const [x, y, pos] of A.s.clicks) {
      const [cx, cy] = toCanvas(x + 0.5, y + 0.5);
      ctx.beginPath(); ctx.arc(cx, cy, 7, 0, Math.PI * 2);
      ctx.fillStyle = pos ? "#2fbf71" : "#e5484d"; ctx.fill();
      ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.stroke();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(cx - 3.5, cy); ctx.lineTo(cx + 3.5, cy);
      if (pos) { ctx.moveTo(cx, cy - 3.5); ctx.lineTo(cx, cy + 3.5); }
      ctx.stroke();
    }
  }

  function drawCursor() {
    if (!A.hover || !A.s || A.space) return;
    if (A.tool === "brush" || A.tool === "eraser") {
      const [cx, cy] = A.hover;
      const r = A.brush / imgPerCss();
      ctx.save();
      ctx.beginPath(); ctx.arc(cx, cy, Math.max(1, r), 0, Math.PI * 2);
      ctx.strokeStyle = "rgba(0,0,0,.7)"; ctx.lineWidth = 3; ctx.stroke();
      ctx.strokeStyle = effectiveMode() === "subtract" || A.tool === "eraser" ? "#ff9bb5" : "#fff"; ctx.lineWidth = 1.2; ctx.stroke();
      ctx.restore();
    }
  }

  // ------------------------------------------------------------------ tools
  function toolInfo(id) { return (A.config.tools || []).find((t) => t.id === id); }
  function methodInfo(kind, name) { return (A.config.methods[kind] || []).find((m) => m.name === name); }

  function buildToolbar() {
    const bar = $("toolbar");
    bar.innerHTML = "";
    for (const t of A.config.tools) {
      const b = el("button", { class: "tool", "data-tool": t.id, title: `${t.label} (${t.key.toUpperCase()}): ${t.hint}` });
      b.innerHTML = `<svg viewBox="0 0 24 24">${ICONS[t.id] || ICONS.detect}</svg>`;
      b.append(el("span", { class: "label", text: t.label }), el("kbd", { text: t.key.toUpperCase() }));
      b.addEventListener("click", () => selectTool(t.id));
      bar.append(b);
    }
  }

  function selectTool(id) {
    const t = toolInfo(id);
    if (!t) return;
    if (A.tool === "clicks" && id !== "clicks" && A.s && A.s.clicks.length) endClicks(true);
    A.tool = id;
    document.body.dataset.tool = id;
    for (const b of document.querySelectorAll(".tool")) b.classList.toggle("on", b.dataset.tool === id);
    $("tool-title").textContent = t.label;
    $("tool-hint").textContent = t.hint;
    $("mode-seg").style.visibility = id === "brush" || id === "eraser" ? "hidden" : "visible";
    canvas.classList.toggle("brush", id === "brush" || id === "eraser");
    buildToolBody(t);
    if (id === "threshold") enterThreshold();
    if (id === "superpixel") loadOutline();
    draw();
  }

  // Settings forms built from the registry's JSON schemas.
  function fieldType(p) {
    if (p.anyOf) {
      const real = p.anyOf.filter((x) => x.type !== "null");
      const base = Object.assign({}, real[0] || {}, { optional: p.anyOf.length > real.length });
      return Object.assign(base, { default: p.default, description: p.description, title: p.title });
    }
    return p;
  }
  function settingsForm(schema, { exclude = [], primary = null, onchange = null } = {}) {
    const props = (schema && schema.properties) || {};
    const wrap = el("div");
    const more = el("details", { class: "more" }, el("summary", { text: "More settings" }));
    const inputs = {};
    let nMore = 0;
    for (const [name, raw] of Object.entries(props)) {
      if (exclude.includes(name)) continue;
      const p = fieldType(raw);
      if (p.type === "array" || p.type === "object" || p.prefixItems) continue;
      const label = name.replace(/_/g, " ");
      let row, input, get;
      const def = raw.default;
      if (p.enum) {
        input = el("select", { "data-setting": name });
        for (const o of p.enum) input.append(el("option", { value: JSON.stringify(o), text: String(o) }));
        if (def !== undefined) input.value = JSON.stringify(def);
        get = () => JSON.parse(input.value);
        row = el("label", { class: "row", title: p.description || "" }, el("span", { text: label }), input);
      } else if (p.const !== undefined) {
        continue;
      } else if (p.type === "boolean") {
        input = el("input", { type: "checkbox", "data-setting": name });
        input.checked = !!def;
        get = () => input.checked;
        row = el("div", { class: "row check", title: p.description || "" }, el("label", {}, input, document.createTextNode(label)));
      } else if (p.type === "integer" || p.type === "number") {
        const lo = p.minimum ?? p.exclusiveMinimum, hi = p.maximum ?? p.exclusiveMaximum;
        const step = p.type === "integer" ? 1 : (hi !== undefined && lo !== undefined && hi - lo <= 2 ? 0.01 : (hi !== undefined && hi - (lo || 0) <= 20 ? 0.1 : 0.5));
        const hint = SLIDERS[name];
        const slider = !p.optional && ((lo !== undefined && hi !== undefined && hi - lo <= 1000) || (hint && lo !== undefined));
        const sStep = hint && hi === undefined ? hint[2] : step;
        // an exclusive bound (greater than 0, less than 1) is not a value the model takes: stop one step inside it
        const sMin = p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + sStep : undefined);
        const sMax = hi === undefined ? hint && hint[1] : p.maximum ?? p.exclusiveMaximum - sStep;
        if (slider) {
          input = el("input", { type: "range", min: sMin, max: sMax, step: sStep, "data-setting": name });
          input.value = def ?? sMin;
          const out = el("output", { text: String(input.value) });
          input.addEventListener("input", () => { out.textContent = input.value; });
          get = () => Number(input.value);
          row = el("label", { class: "row slider", title: p.description || "" }, el("span", { text: label }), input, out);
        } else {
          input = el("input", { type: "number", step: p.type === "integer" ? 1 : "any", "data-setting": name, placeholder: def === null || def === undefined ? "auto" : "" });
          if (lo !== undefined) input.min = lo;
          if (hi !== undefined) input.max = hi;
          if (def !== null && def !== undefined) input.value = def;
          get = () => (input.value === "" ? null : Number(input.value));
          row = el("label", { class: "row", title: p.description || "" }, el("span", { text: label }), input);
        }
      } else if (p.type === "string") {
        input = el("input", { type: "text", "data-setting": name });
        if (def) input.value = def;
        get = () => (input.value === "" ? null : input.value);
        row = el("label", { class: "row", title: p.description || "" }, el("span", { text: label }), input);
      } else continue;
      if (onchange) input.addEventListener("change", onchange);
      inputs[name] = { get, def };
      if (!primary || primary.includes(name)) wrap.append(row);
      else { more.append(row); nMore++; }
    }
    if (nMore) wrap.append(more);
    return {
      el: wrap,
      values() {
        const out = {};
        for (const [n, { get, def }] of Object.entries(inputs)) {
          const v = get();
          if (v === null && (def === null || def === undefined)) continue;
          if (JSON.stringify(v) !== JSON.stringify(def)) out[n] = v;
        }
        return out;
      },
    };
  }

  // Sliders for settings that have no upper bound in their model: [min, max, step] of the slider.
  const SLIDERS = { tolerance: [0, 60, 0.5], min_size: [0, 5000, 1], n_segments: [20, 4000, 10] };

  const TOOL_FORMS = {
    box: { exclude: ["box", "foreground", "background", "points", "seeds"], primary: [] },
    clicks: { exclude: ["clicks", "previous"], primary: [] },
    wand: { exclude: ["seeds", "points", "point"], primary: ["tolerance", "reference", "connectivity"] },
    color: { exclude: ["color", "point", "points"], primary: ["tolerance", "radius", "space"] },
    superpixel: { exclude: ["points", "seeds", "point", "labels"], primary: ["algorithm", "n_segments", "compactness"] },
  };

  function buildToolBody(t) {
    const body = $("tool-body");
    body.innerHTML = "";
    const m = t.method ? methodInfo("segment", t.method) : null;
    if (t.id === "brush" || t.id === "eraser") {
      const maxR = A.s ? Math.max(50, Math.round(Math.max(A.s.width, A.s.height) / 8)) : 400;
      const input = el("input", { type: "range", min: 1, max: maxR, step: 1, value: A.brush, id: "brush-size" });
      const out = el("output", { text: `${A.brush} px` });
      input.addEventListener("input", () => { A.brush = Number(input.value); out.textContent = `${A.brush} px`; draw(); });
      body.append(el("label", { class: "row slider" }, el("span", { text: "Radius" }), input, out));
      return;
    }
    if (t.id === "lasso") return;
    if (t.id === "threshold") { buildThresholdBody(body, m); return; }
    if (t.id === "detect") { buildDetectBody(body, t); return; }
    if (t.id === "box" && !t.method) {
      body.append(el("p", { class: "hint", text: "The rectangle itself is selected." }));
      return;
    }
    if (t.id === "clicks") {
      const info = el("div", { class: "clicks-info" },
        el("span", { id: "clicks-count", class: "muted", text: "No clicks yet." }),
        el("button", { class: "btn small", id: "new-object", title: "Finish this object; the next click starts a new one (Enter)", onclick: () => endClicks(false) }, "New object"));
      body.append(info);
    }
    if (t.id === "color") {
      body.append(el("div", { class: "row" }, el("span", { text: "Picked" }), el("span", { id: "picked" }, el("span", { class: "swatch", id: "swatch" }), el("span", { id: "picked-text", class: "muted", text: "click the image" }))));
    }
    if (m) {
      const spec = Object.assign({}, TOOL_FORMS[t.id] || { exclude: [], primary: null });
      if (t.id === "superpixel") spec.onchange = () => loadOutline();
      const form = settingsForm(m.settings, spec);
      A.forms[t.id] = form;
      body.append(form.el);
    }
    if (t.id === "clicks") updateClicksInfo();
    if (t.id === "color" && A.picked) showPicked(A.picked);
  }

  function buildDetectBody(body, t) {
    const list = el("div", { class: "detectors" });
    for (const name of t.methods) {
      const m = methodInfo("segment", name);
      const form = settingsForm(m.settings, { primary: [] });
      A.forms["detect:" + name] = form;
      const run = el("button", { class: "btn small primary", "data-detector": name, onclick: () => runSegment(name, form.values(), {}) }, "Find");
      list.append(el("div", { class: "detector" }, el("div", { class: "top" }, el("b", { text: name.replace(/_/g, " ") }), run), el("p", { class: "hint", text: plain(m.summary) }), form.el));
    }
    body.append(list);
  }

  async function loadOutline() {
    if (!A.s || A.tool !== "superpixel") return;
    const form = A.forms.superpixel;
    const q = encodeURIComponent(JSON.stringify(form ? form.values() : {}));
    const version = A.s.image_version;
    const im = await busyDo("Superpixels", async () => {
      const url = sp(`/superpixels/outline?settings=${q}&v=${version}`);
      const res = await fetch(url);
      if (!res.ok) { const d = await res.json().catch(() => ({})); throw new ApiError(res.status, d.detail || res.statusText); }
      const blobUrl = URL.createObjectURL(await res.blob());
      try { return await loadImage(blobUrl); } finally { URL.revokeObjectURL(blobUrl); }
    });
    if (im) { A.outline = im; A.outlineFor = version; draw(); }
  }

  // ------------------------------------------------------------------ threshold tool
  function buildThresholdBody(body, m) {
    const th = A.threshold;
    const hist = el("canvas", { class: "hist", id: "hist", width: 512, height: 184 });
    const slider = el("input", { type: "range", min: 0, max: 255, step: 1, value: th.value, id: "threshold-value" });
    const out = el("output", { text: String(th.value) });
    const inv = el("input", { type: "checkbox", id: "threshold-invert" });
    inv.checked = th.invert;
    const set = (v) => { th.value = clamp(Math.round(v), 0, 255); slider.value = th.value; out.textContent = th.value; drawHistogram(); updateThresholdPreview(); };
    slider.addEventListener("input", () => set(Number(slider.value)));
    inv.addEventListener("change", () => { th.invert = inv.checked; drawHistogram(); updateThresholdPreview(); });
    const pick = (e) => { const r = hist.getBoundingClientRect(); set(((e.clientX - r.left) / r.width) * 255); };
    hist.addEventListener("pointerdown", (e) => { hist.setPointerCapture(e.pointerId); pick(e); });
    hist.addEventListener("pointermove", (e) => { if (e.buttons & 1) pick(e); });
    const auto = el("div", { class: "refine" },
      el("button", { class: "btn small", onclick: () => th.hist && set(th.hist.otsu), title: "Otsu's threshold of the histogram" }, "Otsu"),
      el("button", { class: "btn small", onclick: () => th.hist && set(th.hist.triangle), title: "The triangle threshold (for a peak and a long tail)" }, "Triangle"));
    const apply = el("button", { class: "btn primary wide", id: "threshold-apply", onclick: applyThreshold }, "Apply threshold");
    body.append(hist,
      el("label", { class: "row slider" }, el("span", { text: "Threshold" }), slider, out),
      el("div", { class: "row check" }, el("label", {}, inv, document.createTextNode("Select the darker pixels"))),
      auto, apply);
    th.set = set;
    drawHistogram();
  }

  async function enterThreshold() {
    const th = A.threshold;
    if (!A.s) return;
    if (!th.hist || th.histFor !== A.s.image_version) {
      const h = await busyDo("Histogram", () => api("GET", sp("/histogram")));
      if (!h) return;
      th.hist = h; th.histFor = A.s.image_version;
      if (th.set && !th.touched) { th.touched = true; th.set(h.otsu); }
    }
    drawHistogram();
    updateThresholdPreview();
  }

  function drawHistogram() {
    const c = $("hist");
    const th = A.threshold;
    if (!c) return;
    const g = c.getContext("2d");
    const W = c.width, H = c.height;
    g.clearRect(0, 0, W, H);
    if (!th.hist) return;
    const counts = th.hist.counts;
    const logs = counts.map((n) => Math.sqrt(n));
    const max = Math.max(...logs) || 1;
    const bw = W / 256;
    for (let i = 0; i < 256; i++) {
      const h = (logs[i] / max) * (H - 6);
      const sel = th.invert ? i <= th.value : i > th.value;
      g.fillStyle = sel ? "rgba(255,45,94,.85)" : "rgba(170,180,200,.55)";
      g.fillRect(i * bw, H - h, Math.ceil(bw), h);
    }
    const x = (th.value + 0.5) * bw;
    g.strokeStyle = "#fff"; g.lineWidth = 2;
    g.beginPath(); g.moveTo(x, 0); g.lineTo(x, H); g.stroke();
  }

  function luminance() {
    const th = A.threshold;
    if (th.lum && th.lumFor === A.s.image_version) return th.lum;
    const im = A.img.current;
    const c = document.createElement("canvas");
    c.width = A.s.preview_width; c.height = A.s.preview_height;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(im, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const lum = new Uint8ClampedArray(c.width * c.height);
    for (let i = 0, j = 0; j < lum.length; i += 4, j++) lum[j] = Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]);
    th.lum = lum; th.lumFor = A.s.image_version; th.rgba = d;
    return lum;
  }

  function updateThresholdPreview() {
    const th = A.threshold;
    if (A.tool !== "threshold" || !A.s || !A.img.current) { th.pending = null; return; }
    const lum = luminance();
    const w = A.s.preview_width, h = A.s.preview_height;
    if (!th.pending || th.pending.width !== w || th.pending.height !== h) {
      th.pending = document.createElement("canvas");
      th.pending.width = w; th.pending.height = h;
    }
    const g = th.pending.getContext("2d");
    const out = g.createImageData(w, h);
    const o = out.data, t = th.value, inv = th.invert;
    for (let j = 0, i = 0; j < lum.length; j++, i += 4) {
      const sel = inv ? lum[j] <= t : lum[j] > t;
      if (sel) { o[i] = 40; o[i + 1] = 200; o[i + 2] = 255; o[i + 3] = 120; }
    }
    g.putImageData(out, 0, 0);
    draw();
  }

  async function applyThreshold() {
    if (!A.s || !A.threshold.hist) return;
    const th = A.threshold;
    const value = th.value * th.hist.value_scale;
    const props = (methodInfo("segment", "threshold").settings.properties) || {};
    const key = "algorithm" in props ? "algorithm" : "method";
    await runSegment("threshold", { [key]: "fixed", value, invert: th.invert }, {});
  }

  // ------------------------------------------------------------------ actions
  function effectiveMode(e) {
    if (e && e.altKey) return "subtract";
    if (e && e.shiftKey) return "add";
    return A.mode;
  }

  async function runSegment(method, settings, extra, mode) {
    if (!A.s) return;
    const body = Object.assign({ method, settings, mode: mode || A.mode }, extra);
    const st = await busyDo(method.replace(/_/g, " "), () => api("POST", sp("/segment"), body));
    await applyState(st);
  }

  async function post(path, body, label) {
    if (!A.s) return;
    const st = await busyDo(label, () => api("POST", sp(path), body));
    await applyState(st);
    return st;
  }

  async function onBox(a, b, mode) {
    const x = Math.min(a[0], b[0]), y = Math.min(a[1], b[1]);
    const w = Math.abs(b[0] - a[0]), h = Math.abs(b[1] - a[1]);
    if (w < 2 || h < 2) return;
    const box = [Math.round(x), Math.round(y), Math.max(1, Math.round(w)), Math.max(1, Math.round(h))];
    const t = toolInfo("box");
    if (t.method) {
      const form = A.forms.box;
      await runSegment(t.method, form ? form.values() : {}, { box }, mode);
    } else {
      await post("/shape", { shape: "rectangle", box, mode }, "rectangle");
    }
  }

  async function onPointTool(tool, p, e) {
    const t = toolInfo(tool);
    const form = A.forms[tool];
    const pt = [Math.floor(p[0]), Math.floor(p[1])];
    if (tool === "color") {
      A.picked = pickColor(p);
      showPicked(A.picked);
    }
    await runSegment(t.method, form ? form.values() : {}, { points: [pt] }, effectiveMode(e));
  }

  function pickColor(p) {
    luminance();
    const d = A.threshold.rgba;
    const x = clamp(Math.floor(p[0] * A.s.scale), 0, A.s.preview_width - 1), y = clamp(Math.floor(p[1] * A.s.scale), 0, A.s.preview_height - 1);
    const i = 4 * (y * A.s.preview_width + x);
    return [d[i], d[i + 1], d[i + 2]];
  }
  function showPicked(rgb) {
    const sw = $("swatch"), tx = $("picked-text");
    if (!sw || !rgb) return;
    sw.style.background = `rgb(${rgb.join(",")})`;
    tx.textContent = "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
  }

  async function onClick(p, e, positive) {
    const form = A.forms.clicks;
    const mode = e.shiftKey ? "add" : A.mode;
    const body = { x: Math.floor(p[0]), y: Math.floor(p[1]), positive, mode, settings: form ? form.values() : {} };
    const st = await busyDo(positive ? "Adding click" : "Removing click", () => api("POST", sp("/clicks"), body));
    await applyState(st);
    updateClicksInfo();
  }
  async function endClicks(quiet) {
    if (!A.s) return;
    const st = await busyDo("New object", () => api("DELETE", sp("/clicks")));
    await applyState(st, { quiet });
    updateClicksInfo();
  }
  function updateClicksInfo() {
    const c = $("clicks-count");
    if (!c || !A.s) return;
    const n = A.s.clicks.length, pos = A.s.clicks.filter((k) => k[2]).length;
    c.textContent = n ? `${plural(pos, "positive")}, ${n - pos} negative` : "No clicks yet: click the object.";
  }

  async function onStroke(points, radius, mode) {
    const pts = points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
    await post("/brush", { points: pts, radius, mode }, mode === "add" ? "Painting" : "Erasing");
  }

  async function onLasso(points, mode) {
    if (points.length < 3) return;
    await post("/shape", { shape: "polygon", points: points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]), mode }, "Lasso");
  }

  async function undo() {
    if (!A.s || !A.s.can_undo || A.job) return;
    const st = await busyDo("Undo", () => api("POST", sp("/undo")));
    await applyState(st);
    updateClicksInfo();
  }
  async function redo() {
    if (!A.s || !A.s.can_redo || A.job) return;
    const st = await busyDo("Redo", () => api("POST", sp("/redo")));
    await applyState(st);
    updateClicksInfo();
  }

  async function refine(method, settings) {
    await post("/refine", { method, settings }, method.replace(/_/g, " "));
  }

  // ------------------------------------------------------------------ fill
  function buildFill() {
    const sel = $("fill-method");
    sel.innerHTML = "";
    for (const m of A.config.methods.inpaint) sel.append(el("option", { value: m.name, text: m.name.replace(/_/g, " ") }));
    sel.value = A.config.default_inpaint;
    const show = () => {
      const m = methodInfo("inpaint", sel.value);
      $("fill-summary").textContent = m ? plain(m.summary) : "";
      const f = settingsForm(m ? m.settings : {}, { primary: [] });
      A.forms.fill = f;
      const box = $("fill-settings");
      box.innerHTML = "";
      box.append(f.el);
    };
    sel.addEventListener("change", show);
    show();
    const fe = $("feather"), fo = $("feather-out");
    fe.addEventListener("input", () => { fo.textContent = `${fe.value} px`; });
    $("fill-btn").addEventListener("click", fill);
  }

  async function fill() {
    if (!A.s || A.job || !A.s.mask_pixels) return;
    const method = $("fill-method").value;
    const body = { method, settings: A.forms.fill ? A.forms.fill.values() : {}, feather: Number($("feather").value) };
    let job;
    try { job = await api("POST", sp("/fill"), body); }
    catch (e) { showError(e); return; }
    A.job = job;
    document.body.dataset.busy = "1";
    document.body.dataset.job = "running";
    $("progress").hidden = false;
    refreshUi();
    const t0 = performance.now();
    const tick = () => {
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      $("progress-text").textContent = job.status === "queued" ? `Waiting for another fill to finish… ${secs} s` : `Filling with ${method.replace(/_/g, " ")}… ${secs} s`;
    };
    tick();
    const timer = setInterval(tick, 100);
    try {
      while (true) {
        await new Promise((r) => setTimeout(r, 200));
        job = await api("GET", sp(`/jobs/${job.id}`));
        if (job.status === "done" || job.status === "error") break;
      }
      if (job.status === "error") throw new Error(job.error || "the fill failed");
      const st = await api("GET", sp(""));
      A.job = null;
      await applyState(st, { quiet: true });
      status(`Filled with ${method.replace(/_/g, " ")} in ${job.elapsed.toFixed(2)} s. Compare (V) to see before and after; Ctrl+Z undoes it.`);
    } catch (e) {
      showError(e);
    } finally {
      clearInterval(timer);
      A.job = null;
      $("progress").hidden = true;
      document.body.dataset.job = "idle";
      document.body.dataset.busy = A.busy ? "1" : "0";
      refreshUi();
    }
  }

  // ------------------------------------------------------------------ refine panel
  function buildRefine() {
    const body = $("refine-body");
    body.innerHTML = "";
    const has = (n) => !!methodInfo("refine", n);
    const px = el("input", { type: "number", min: 1, max: 500, step: 1, value: 3, id: "refine-px", title: "pixels" });
    if (has("grow") || has("shrink")) {
      body.append(el("div", { class: "pair" },
        has("grow") ? el("button", { class: "btn", id: "grow-btn", title: "Grow the mask (G)", onclick: () => refine("grow", { pixels: Number(px.value) }) }, "Grow") : el("span"),
        has("shrink") ? el("button", { class: "btn", id: "shrink-btn", title: "Shrink the mask", onclick: () => refine("shrink", { pixels: Number(px.value) }) }, "Shrink") : el("span"),
        el("label", { class: "muted", title: "pixels" }, px)));
    }
    if (has("remove_small")) {
      const ms = el("input", { type: "number", min: 1, step: 1, value: 64, id: "min-size", title: "smallest part kept, in pixels" });
      body.append(el("div", { class: "pair" },
        el("button", { class: "btn", id: "remove-small-btn", onclick: () => refine("remove_small", { min_size: Number(ms.value) }), title: "Drop the parts of the mask smaller than this many pixels" }, "Remove small"),
        el("span", { class: "muted", text: "smaller than" }), ms));
    }
    const simple = [["fill_holes", "Fill holes", "Fill the holes inside the mask (H)"], ["smooth", "Smooth", "Smooth a jagged outline"],
      ["keep_largest", "Keep largest", "Keep only the largest part"], ["closing", "Close gaps", "Bridge narrow gaps"],
      ["opening", "Open", "Remove specks and thin spurs"], ["invert", "Invert", "Swap selected and unselected"]];
    for (const [n, label, title] of simple) if (has(n)) body.append(el("button", { class: "btn", id: `${n.replace(/_/g, "-")}-btn`, title, onclick: () => refine(n, {}) }, label));
    body.append(el("button", { class: "btn", id: "clear-btn", title: "Clear the mask (Delete)", onclick: () => post("/mask/clear", undefined, "Clear") }, "Clear"));
  }

  // ------------------------------------------------------------------ UI refresh
  function refreshUi() {
    const s = A.s, has = !!s, busy = !!A.job;
    $("empty").hidden = has;
    $("undo-btn").disabled = !has || !s.can_undo || busy;
    $("redo-btn").disabled = !has || !s.can_redo || busy;
    $("undo-btn").title = has && s.undo_label ? `Undo ${s.undo_label} (Ctrl+Z)` : "Undo (Ctrl+Z)";
    $("redo-btn").title = has && s.redo_label ? `Redo ${s.redo_label} (Ctrl+Shift+Z)` : "Redo (Ctrl+Shift+Z)";
    $("compare-btn").disabled = !has || !A.img.original;
    $("mask-btn").disabled = !has;
    $("fill-btn").disabled = !has || busy || !s.mask_pixels;
    for (const id of ["download-image", "download-mask"]) $(id).classList.toggle("disabled", !has || busy);
    if (has) {
      $("download-image").href = sp("/download/image");
      $("download-image").setAttribute("download", s.download_name);
      $("download-mask").href = sp("/download/mask");
      $("file-name").textContent = s.filename;
      $("stat-mask").textContent = `mask ${fmtPct(s.mask_fraction)}`;
      $("mask-stat").textContent = s.mask_pixels ? `${s.mask_pixels.toLocaleString()} px` : "empty";
      const ch = s.channels === 1 ? "grey" : s.channels === 4 ? "RGBA" : "RGB";
      $("stat-image").textContent = `${s.width} × ${s.height} · ${ch} ${s.dtype} · ${s.format || "?"}`;
      $("stat-zoom").textContent = `${Math.round(A.view.zoom * s.scale * 100)} %`;
    } else {
      $("file-name").textContent = "";
      for (const id of ["stat-mask", "stat-image", "stat-zoom", "stat-pos"]) $(id).textContent = "";
      $("mask-stat").textContent = "";
    }
    for (const b of document.querySelectorAll(".tool")) b.disabled = !has;
    $("compare-btn").classList.toggle("on", A.compare);
    $("compare-labels").hidden = !(A.compare && has);
    $("mask-btn").classList.toggle("on", A.showMask);
    for (const b of document.querySelectorAll("#mode-seg button")) b.classList.toggle("on", b.dataset.mode === A.mode);
  }

  function setMode(m) { A.mode = m; document.body.dataset.mode = m; refreshUi(); }
  function toggleCompare(on = !A.compare) {
    if (!A.img.original) return;
    A.compare = on;
    document.body.dataset.compare = on ? "1" : "0";
    refreshUi(); draw();
  }

  // ------------------------------------------------------------------ open
  async function openFile(file) {
    if (!file) return;
    const lim = A.config.limits;
    if (file.size > lim.max_upload_bytes) {
      showError(new Error(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MiB, more than this server's limit of ${(lim.max_upload_bytes / 2 ** 20).toFixed(0)} MiB`));
      return;
    }
    const fd = new FormData();
    fd.append("file", file, file.name);
    const old = A.s ? A.s.id : null;
    document.body.dataset.ready = "0";
    const st = await busyDo(`Opening ${file.name}`, () => api("POST", "/api/sessions", fd, { form: true }));
    if (!st) return;
    if (old && old !== st.id) api("DELETE", `/api/sessions/${old}`).catch(() => {});
    resetForImage();
    await applyState(st);
    if (!A.tool) selectTool(A.config.tools[0].id); else selectTool(A.tool);
    canvas.focus();
  }
  function resetForImage() {
    A.s = null;
    A.img = { current: null, original: null, overlay: null };
    A.loaded = { version: -1, image: -1 };
    A.compare = false;
    A.threshold.hist = null; A.threshold.lum = null; A.threshold.lumFor = -1; A.threshold.touched = false; A.threshold.pending = null;
    A.picked = null;
    A.outline = null; A.outlineFor = -1;
  }

  // ------------------------------------------------------------------ pointer input
  function onPointerDown(e) {
    if (!A.s || A.job) return;
    canvas.focus();
    const pos = eventPos(e);
    canvas.setPointerCapture(e.pointerId);
    // pan: middle button or Space held
    if (e.button === 1 || (e.button === 0 && A.space)) {
      A.gesture = { kind: "pan", start: pos, o: [A.view.ox, A.view.oy] };
      canvas.classList.add("panning");
      e.preventDefault();
      return;
    }
    // the compare divider takes precedence when it is grabbed
    if (A.compare && e.button === 0) {
      const dx = Math.abs(pos[0] - (A.view.ox + A.s.preview_width * A.view.zoom * A.split));
      if (dx < 14) { A.gesture = { kind: "split" }; return; }
    }
    const p = toImage(...pos);
    const t = A.tool;
    if (e.button === 2) {
      if (t === "clicks" && inside(p)) onClick(p, e, false);
      return;
    }
    if (e.button !== 0) return;
    const mode = effectiveMode(e);
    if (t === "box") A.gesture = { kind: "box", a: clampImg(p), b: clampImg(p), mode };
    else if (t === "lasso") A.gesture = { kind: "lasso", points: [clampImg(p)], mode };
    else if (t === "brush" || t === "eraser") {
      const m = t === "eraser" ? "subtract" : (e.altKey ? "subtract" : "add");
      A.gesture = { kind: "stroke", points: [p], radius: A.brush, mode: m };
    } else if (t === "clicks") { if (inside(p)) onClick(p, e, !e.altKey); }
    else if (t === "wand" || t === "color" || t === "superpixel") { if (inside(p)) onPointTool(t, p, e); }
    draw();
  }
  function onPointerMove(e) {
    const pos = eventPos(e);
    A.hover = pos;
    if (A.s) {
      const [x, y] = toImage(...pos);
      $("stat-pos").textContent = inside([x, y]) ? `${Math.floor(x)}, ${Math.floor(y)}` : "";
    }
    const g = A.gesture;
    if (g) {
      if (g.kind === "pan") {
        A.view.ox = g.o[0] + pos[0] - g.start[0];
        A.view.oy = g.o[1] + pos[1] - g.start[1];
        A.view.fitted = false;
      } else if (g.kind === "split") {
        A.split = clamp((pos[0] - A.view.ox) / (A.s.preview_width * A.view.zoom), 0, 1);
      } else if (g.kind === "box") g.b = clampImg(toImage(...pos));
      else if (g.kind === "lasso" || g.kind === "stroke") {
        // every position the pointer went through, not only one per frame
        const all = (e.getCoalescedEvents && e.getCoalescedEvents().length) ? e.getCoalescedEvents() : [e];
        for (const ev of all) {
          const p = toImage(...eventPos(ev));
          if (g.kind === "lasso") { g.points.push(clampImg(p)); continue; }
          const last = g.points[g.points.length - 1];
          if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= Math.max(0.5, g.radius / 4)) g.points.push(p);
        }
      }
    }
    draw();
  }
  function onPointerUp(e) {
    const g = A.gesture;
    A.gesture = null;
    canvas.classList.remove("panning");
    if (!g) return;
    if (g.kind === "box") onBox(g.a, g.b, g.mode);
    else if (g.kind === "lasso") onLasso(g.points, g.mode);
    else if (g.kind === "stroke") onStroke(g.points, g.radius, g.mode);
    draw();
  }

  // ------------------------------------------------------------------ keyboard
  const SHORTCUTS = [
    ["O", "Open an image"], ["Ctrl+Z", "Undo"], ["Ctrl+Shift+Z / Ctrl+Y", "Redo"], ["X", "Toggle add / subtract"],
    ["Shift / Alt", "Add / subtract while marking"], ["[ ]", "Brush size"], ["G / H", "Grow / fill holes"], ["Delete", "Clear the mask"],
    ["Ctrl+Enter", "Fill the selection"], ["V", "Before / after split"], ["\\ (hold)", "Show the original"], ["M", "Show / hide the mask"],
    ["F / 1", "Fit / 100 %"], ["+ / −", "Zoom"], ["Enter", "Clicks: new object"], ["Esc", "Cancel the drag"],
  ];
  function isTyping(e) {
    const t = e.target;
    return t && (t.tagName === "INPUT" && !["range", "checkbox"].includes(t.type) || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
  }
  function onKeyDown(e) {
    if (e.key === "Escape") { A.gesture = null; $("help").hidden = true; draw(); return; }
    if (isTyping(e)) return;
    const k = e.key.toLowerCase();
    const ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && k === "z") { e.preventDefault(); if (e.shiftKey) redo(); else undo(); return; }
    if (ctrl && k === "y") { e.preventDefault(); redo(); return; }
    if (ctrl && k === "o") { e.preventDefault(); $("file-input").click(); return; }
    if (ctrl && e.key === "Enter") { e.preventDefault(); fill(); return; }
    if (ctrl || e.altKey) return;
    if (e.key === " ") { A.space = true; canvas.classList.add("pan"); e.preventDefault(); return; }
    if (e.key === "\\") { if (A.img.original) { A.holdOriginal = true; document.body.dataset.holding = "1"; draw(); } return; }
    if (e.key === "?") { $("help").hidden = !$("help").hidden; return; }
    if (k === "o") { $("file-input").click(); return; }
    if (!A.s) return;
    const tool = A.config.tools.find((t) => t.key === k);
    if (tool) { selectTool(tool.id); return; }
    if (k === "x") setMode(A.mode === "add" ? "subtract" : "add");
    else if (k === "v") toggleCompare();
    else if (k === "m") { A.showMask = !A.showMask; refreshUi(); draw(); }
    else if (k === "f") fit();
    else if (k === "1") { const r = canvas.getBoundingClientRect(); zoomAt(1 / (A.view.zoom * A.s.scale), r.width / 2, r.height / 2); }
    else if (k === "+" || k === "=") { const r = canvas.getBoundingClientRect(); zoomAt(1.25, r.width / 2, r.height / 2); }
    else if (k === "-") { const r = canvas.getBoundingClientRect(); zoomAt(0.8, r.width / 2, r.height / 2); }
    else if (k === "[" || k === "]") {
      A.brush = clamp(Math.round(A.brush * (k === "]" ? 1.25 : 0.8)) + (k === "]" ? 1 : 0), 1, 4000);
      const s = $("brush-size"); if (s) { s.value = A.brush; s.dispatchEvent(new Event("input")); }
      draw();
    } else if (k === "g") refine("grow", { pixels: Number(($("refine-px") || {}).value || 3) });
    else if (k === "h") refine("fill_holes", {});
    else if (e.key === "Delete" || e.key === "Backspace") post("/mask/clear", undefined, "Clear");
    else if (e.key === "Enter" && A.tool === "clicks") endClicks(false);
  }
  function onKeyUp(e) {
    if (e.key === " ") { A.space = false; canvas.classList.remove("pan"); draw(); }
    if (e.key === "\\") { A.holdOriginal = false; document.body.dataset.holding = "0"; draw(); }
  }

  // ------------------------------------------------------------------ start
  function wire() {
    $("open-btn").addEventListener("click", () => $("file-input").click());
    $("empty-open").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", (e) => { const f = e.target.files[0]; e.target.value = ""; openFile(f); });
    $("undo-btn").addEventListener("click", undo);
    $("redo-btn").addEventListener("click", redo);
    $("compare-btn").addEventListener("click", () => toggleCompare());
    $("mask-btn").addEventListener("click", () => { A.showMask = !A.showMask; refreshUi(); draw(); });
    $("help-btn").addEventListener("click", () => { $("help").hidden = false; });
    $("help-close").addEventListener("click", () => { $("help").hidden = true; });
    for (const b of document.querySelectorAll("#mode-seg button")) b.addEventListener("click", () => setMode(b.dataset.mode));
    const table = $("help-table");
    for (const t of A.config.tools) table.append(el("tr", {}, el("td", {}, el("kbd", { class: "k", text: t.key.toUpperCase() })), el("td", { text: t.label })));
    for (const [k, what] of SHORTCUTS) table.append(el("tr", {}, el("td", {}, el("kbd", { class: "k", text: k })), el("td", { text: what })));

    canvas.addEventListener("pointerdown", onPointerDown);
    canvas.addEventListener("pointermove", onPointerMove);
    canvas.addEventListener("pointerup", onPointerUp);
    canvas.addEventListener("pointercancel", () => { A.gesture = null; draw(); });
    canvas.addEventListener("pointerleave", () => { A.hover = null; draw(); });
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    canvas.addEventListener("wheel", (e) => {
      if (!A.s) return;
      e.preventDefault();
      const [cx, cy] = eventPos(e);
      zoomAt(Math.exp(-e.deltaY * 0.0015), cx, cy);
      refreshUi();
    }, { passive: false });
    window.addEventListener("keydown", onKeyDown);
    window.addEventListener("keyup", onKeyUp);
    window.addEventListener("blur", () => { A.space = false; A.holdOriginal = false; canvas.classList.remove("pan"); draw(); });
    new ResizeObserver(resize).observe(canvas);

    // drag and drop anywhere on the page
    let depth = 0;
    const stage = $("stage");
    window.addEventListener("dragenter", (e) => { if ([...(e.dataTransfer?.types || [])].includes("Files")) { depth++; $("drop-hint").hidden = false; } });
    window.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) $("drop-hint").hidden = true; });
    window.addEventListener("dragover", (e) => { e.preventDefault(); });
    window.addEventListener("drop", (e) => {
      e.preventDefault();
      depth = 0; $("drop-hint").hidden = true;
      const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) openFile(f);
    });
    stage.addEventListener("drop", () => {});
  }

  async function start() {
    try {
      A.config = await api("GET", "/api/config");
    } catch (e) {
      status("Could not reach the retouch server: " + e.message, true);
      return;
    }
    const lim = A.config.limits;
    $("limits").textContent = `Up to ${(lim.max_upload_bytes / 2 ** 20).toFixed(0)} MiB and ${(lim.max_pixels / 1e6).toFixed(0)} megapixels. Images stay on this computer.`;
    A.brush = 12;
    wire();
    buildToolbar();
    buildRefine();
    buildFill();
    setMode("add");
    refreshUi();
    resize();
    // the image given on the command line, or the one this tab had before a reload
    let resume = A.config.initial_session;
    try { resume = sessionStorage.getItem("retouch-session") || resume; } catch (e) { /* storage off */ }
    for (const id of [resume, A.config.initial_session]) {
      if (!id || A.s) continue;
      try {
        const res = await fetch(`/api/sessions/${id}`);
        if (!res.ok) continue;
        const st = await res.json();
        await applyState(st);
        status(`Opened ${st.filename} (${st.width} × ${st.height}).`);
      } catch (e) { /* expired: start empty */ }
    }
    selectTool(A.config.tools[0].id);
    document.body.dataset.started = "1";
    if (!A.s) status("Open an image to start: drop it here or press O.");
  }

  // A small hook for tests and the curious: where an image pixel is on screen.
  window.retouchApp = {
    get state() { return A.s; },
    toScreen(x, y) {
      const r = canvas.getBoundingClientRect();
      const [cx, cy] = toCanvas(x, y);
      return [r.left + cx, r.top + cy];
    },
    get tool() { return A.tool; },
  };

  start();
})();
