// The Playground page: controls and URL hash <-> server session; the engine runs server-side.
"use strict";
(function () {
  const PG = window.PG, $ = id => document.getElementById(id);
  let sid = null, hash = "", state = {}, full = null, latest = null, history = [];
  let playing = false, drawPending = false, busy = Promise.resolve(), updateNet = null;
  let frames = 0, epochMarks = [];
  window.PG_STATS = { frames: 0, epochsPerSecond: 0 };

  function showError(message) {
    const box = $("error");
    box.textContent = message; box.hidden = !message;
  }

  async function call(method, route, params) {
    const query = new URLSearchParams(params).toString();
    const res = await fetch(`/api/play/${route}?${query}`, { method });
    if (!res.ok) {
      const text = (await res.text()).trim();
      throw new Error(text || `${res.status} ${res.statusText}`);
    }
    showError("");
    return res.json();
  }

  // Serialise calls that change the session (a control change waits for a step in flight).
  function queue(fn) {
    busy = busy.then(fn).catch(err => { showError(err.message); setPlaying(false); });
    return busy;
  }

  function parseHash(text) {
    const out = {};
    for (const kv of text.split("&")) { const i = kv.indexOf("="); if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1); }
    return out;
  }

  function epochLabel(n) {
    const s = String(n).padStart(6, "0");
    return s.slice(0, 3) + "," + s.slice(3);
  }

  function applyFrame(f) {
    if (f.full) {
      full = f; history = f.history.slice();
      updateNet = PG.buildNetwork($("network"), f, { toggle, neurons });
    } else {
      history.push(...f.losses);
    }
    if (f.hash !== hash) {
      hash = f.hash; state = parseHash(hash);
      history_replace(hash); syncControls();
    }
    latest = f;
    epochMarks.push([performance.now(), f.epoch]);
    while (epochMarks.length > 2 && epochMarks[epochMarks.length - 1][0] - epochMarks[0][0] > 2000) epochMarks.shift();
    if (!drawPending) { drawPending = true; requestAnimationFrame(draw); }
  }

  function history_replace(h) {
    if (location.hash.slice(1) !== h) window.history.replaceState(null, "", "#" + h);
  }

  function draw() {
    drawPending = false;
    const f = latest; if (!f || !full) return;
    const discretize = state.discretize === "true";
    const output = PG.f32(f.output);
    PG.drawBoundary($("boundary"), output, full.points, { discretize, showTest: state.showTestData === "true" });
    updateNet(f, discretize);
    PG.lineChart($("loss-chart"), history.map((_, i) => i), [history.map(h => h[0]), history.map(h => h[1])], ["#777", "black"]);
    $("epoch").textContent = epochLabel(f.epoch);
    for (const [id, value] of [["loss-train", f.train_loss], ["loss-test", f.test_loss]]) {
      $(id).textContent = value.toFixed(3); $(id).dataset.value = String(value);
    }
    $("status-line").textContent = `Epoch ${epochLabel(f.epoch)}, Test loss ${f.test_loss.toFixed(3)}, Training loss ${f.train_loss.toFixed(3)}`;
    frames += 1; window.PG_STATS.frames = frames;
    $("boundary").dataset.frames = String(frames);
    if (epochMarks.length > 1) {
      const [t0, e0] = epochMarks[0], [t1, e1] = epochMarks[epochMarks.length - 1];
      const eps = t1 > t0 ? (e1 - e0) / ((t1 - t0) / 1000) : 0;
      window.PG_STATS.epochsPerSecond = eps;
      $("speed").textContent = playing ? `${eps.toFixed(0)} epochs/s` : "\u2013";
    }
  }

  PG.f32 = function (b64) {
    const s = atob(b64), u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return new Float32Array(u.buffer);
  };

  function syncControls() {
    for (const node of document.querySelectorAll("[data-key]")) {
      const key = node.dataset.key, value = state[key] === undefined ? (key === "regularization" ? "none" : "") : state[key];
      if (node.type === "checkbox") node.checked = value === "true";
      else if (node.tagName === "SELECT" && ![...node.options].some(o => (o.value || o.text) === value)) {
        const opt = document.createElement("option"); opt.text = value; node.add(opt); node.value = value;
      } else node.value = value;
    }
    $("percTrainData-value").textContent = `${state.percTrainData}%`;
    $("noise-value").textContent = state.noise; $("batchSize-value").textContent = state.batchSize;
    const regression = state.problem === "regression";
    $("datasets").hidden = regression; $("reg-datasets").hidden = !regression;
    for (const b of document.querySelectorAll("[data-dataset]")) b.classList.toggle("selected", b.dataset.dataset === state.dataset);
    for (const b of document.querySelectorAll("[data-reg-dataset]")) b.classList.toggle("selected", b.dataset.regDataset === state.regDataset);
    const layers = state.networkShape ? state.networkShape.split(",").length : 0;
    $("num-layers").textContent = layers; $("layers-label").textContent = layers === 1 ? "hidden layer" : "hidden layers";
  }

  function change(pairs) {
    return queue(async () => {
      const f = await call("POST", "set", { sid, ...pairs });
      if (f.rebuilt) setPlaying(false);  // the site pauses on reset
      applyFrame(f);
    });
  }

  function toggle(flag, on) { change({ [flag]: on ? "true" : "false" }); }

  function shape() { return state.networkShape ? state.networkShape.split(",").map(Number) : []; }
  function neurons(layer, delta) {
    const s = shape(); s[layer] = Math.max(1, Math.min(8, s[layer] + delta));
    change({ networkShape: s.join(",") });
  }

  function setPlaying(on) {
    playing = on;
    $("play").innerHTML = on ? "&#x275A;&#x275A; Pause" : "&#x25B6; Play";
    $("play").classList.toggle("playing", on);
    if (on) { epochMarks = []; loop(); }
  }

  // One request in flight: step, hand the frame to the next animation frame, step again.
  // Like the site, one epoch per frame; when a request-and-draw cycle takes longer than a
  // display frame (a busy machine), each request trains a few more epochs (at most 10) so
  // the run still advances ~60 epochs/s, and every epoch's losses still reach the chart.
  async function loop() {
    let last = performance.now(), n = 1;
    while (playing) {
      await queue(async () => { if (playing) applyFrame(await call("POST", "step", { sid, n })); });
      await new Promise(r => setTimeout(r, 0));
      const now = performance.now();
      n = Math.max(1, Math.min(10, Math.round(60 * (now - last) / 1000)));
      last = now;
    }
  }

  async function start(fromHash) {
    setPlaying(false);
    await queue(async () => {
      const f = await call("POST", "new", { state: fromHash });
      sid = f.sid; hash = ""; applyFrame(f);
    });
  }

  function wire() {
    $("play").addEventListener("click", () => setPlaying(!playing));
    $("step").addEventListener("click", () => { setPlaying(false); queue(async () => applyFrame(await call("POST", "step", { sid, n: 1 }))); });
    $("reset").addEventListener("click", () => { setPlaying(false); queue(async () => applyFrame(await call("POST", "reset", { sid }))); });
    $("regenerate").addEventListener("click", () => queue(async () => applyFrame(await call("POST", "regenerate", { sid }))));
    for (const node of document.querySelectorAll("[data-key]")) {
      const key = node.dataset.key;
      node.addEventListener("change", () =>
        change({ [key]: node.type === "checkbox" ? String(node.checked) : node.value }));
      if (node.type === "range") node.addEventListener("input", () => {
        const label = $(`${key}-value`); if (label) label.textContent = key === "percTrainData" ? `${node.value}%` : node.value;
      });
    }
    for (const b of document.querySelectorAll("[data-dataset]")) b.addEventListener("click", () => change({ dataset: b.dataset.dataset }));
    for (const b of document.querySelectorAll("[data-reg-dataset]")) b.addEventListener("click", () => change({ regDataset: b.dataset.regDataset }));
    $("add-layer").addEventListener("click", () => { const s = shape(); if (s.length < 6) change({ networkShape: [...s, 2].join(",") }); });
    $("remove-layer").addEventListener("click", () => { const s = shape(); if (s.length) change({ networkShape: s.slice(0, -1).join(",") }); });
    $("export-json").addEventListener("click", async () => {
      const data = await call("GET", "export", { sid });
      PG.download("playground-run.json", new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }));
    });
    $("export-png").addEventListener("click", exportPng);
    $("export-svg").addEventListener("click", () => {
      const svg = document.getElementById("network-svg");
      PG.download("playground-network.svg", new Blob([svg.outerHTML], { type: "image/svg+xml" }));
    });
    $("multi-run").addEventListener("click", runMulti);
    window.addEventListener("hashchange", () => { if (location.hash.slice(1) !== hash) start(location.hash.slice(1)); });
  }

  function exportPng() {
    const out = document.createElement("canvas"), pad = 10;
    const b = $("boundary"), chart = $("loss-chart");
    out.width = b.width + 2 * pad; out.height = b.height + chart.height + 40 + 2 * pad;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "white"; ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(b, pad, pad); ctx.drawImage(chart, pad, pad + b.height + 30);
    ctx.fillStyle = "black"; ctx.font = "12px sans-serif";
    ctx.fillText($("status-line").textContent, pad, pad + b.height + 18);
    out.toBlob(blob => PG.download("playground.png", blob), "image/png");
  }

  async function runMulti() {
    const button = $("multi-run"); button.disabled = true;
    $("multi-summary").textContent = "training\u2026";
    try {
      const r = await call("POST", "multiseed", { sid, seeds: $("multi-seeds").value, epochs: $("multi-epochs").value });
      PG.lineChart($("multi-loss"), r.epoch, [r.train.median, r.test.median], ["#777", "black"],
        [[r.train.q10, r.train.q90, "rgba(120,120,120,0.25)"], [r.test.q10, r.test.q90, "rgba(0,0,0,0.18)"]]);
      PG.drawMap($("multi-map"), r.positive.map(p => 2 * p - 1), 100, false);
      const med = r.test.median[r.test.median.length - 1];
      const sep = r.separated === null ? "" : `, ${(100 * r.separated).toFixed(0)}% of runs separate the classes (test loss < ${r.separated_below})`;
      $("multi-summary").textContent = `${r.seeds} seeds \u00d7 ${r.epochs} epochs in ${r.seconds.toFixed(2)} s: median test loss ${med.toFixed(3)} (10\u201390%: ${r.test.q10[r.test.q10.length - 1].toFixed(3)}\u2013${r.test.q90[r.test.q90.length - 1].toFixed(3)})${sep}`;
      $("multi-summary").dataset.done = "1";
    } catch (err) { $("multi-summary").textContent = ""; showError(err.message); }
    button.disabled = false;
  }

  wire();
  start(location.hash.slice(1));
})();
