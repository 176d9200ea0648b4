// The live dashboard: polls /api/dash/state and redraws. No numbers are computed here
// beyond the best-so-far line; everything comes from the project's own readers.
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const COLORS = ["#0877bd", "#f59322", "#2a7d2a", "#8e44ad", "#b3261e", "#555"];
  let polls = 0;

  function fmt(v, d = 4) { return v === null || v === undefined ? "\u2013" : v.toFixed(d); }
  function duration(s) {
    if (s === null || s === undefined) return "\u2013";
    s = Math.round(s); const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(r).padStart(2, "0")}s`;
  }

  function axes(ctx, w, h, lo, hi, label) {
    ctx.clearRect(0, 0, w, h); ctx.strokeStyle = "#ddd"; ctx.fillStyle = "#777"; ctx.font = "10px sans-serif";
    for (let k = 0; k <= 4; k++) {
      const y = 10 + (h - 30) * k / 4; ctx.beginPath(); ctx.moveTo(40, y); ctx.lineTo(w - 5, y); ctx.stroke();
      ctx.fillText((hi - (hi - lo) * k / 4).toFixed(3), 2, y + 3);
    }
    ctx.fillText(label, 44, h - 4);
  }

  function drawHistory(points) {
    const c = $("history"), ctx = c.getContext("2d"), w = c.width, h = c.height;
    const scored = points.filter(p => p.mean !== null);
    let lo = Math.min(...scored.map(p => p.mean)), hi = Math.max(...scored.map(p => p.mean));
    if (!scored.length) { lo = 0; hi = 1; } if (hi - lo < 1e-6) { lo -= 0.01; hi += 0.01; }
    axes(ctx, w, h, lo, hi, "trial (in order started)");
    const X = i => 45 + (w - 55) * (points.length > 1 ? i / (points.length - 1) : 0.5);
    const Y = v => 10 + (h - 30) * (hi - v) / (hi - lo);
    let best = null, started = false; ctx.beginPath(); ctx.strokeStyle = "#0877bd"; ctx.lineWidth = 2;
    points.forEach((p, i) => {
      if (p.status === "ok" && p.mean !== null) best = best === null ? p.mean : Math.max(best, p.mean);
      if (best === null) return;
      if (!started) { ctx.moveTo(X(i), Y(best)); started = true; } else ctx.lineTo(X(i), Y(best));
    });
    ctx.stroke(); ctx.lineWidth = 1;
    points.forEach((p, i) => {
      if (p.mean === null) return;
      ctx.beginPath(); ctx.arc(X(i), Y(p.mean), 4, 0, 2 * Math.PI);
      if (p.status === "ok") { ctx.fillStyle = "#333"; ctx.fill(); } else { ctx.strokeStyle = "#f59322"; ctx.stroke(); }
    });
  }

  function drawCurves(curves) {
    const c = $("curves"), ctx = c.getContext("2d"), w = c.width, h = c.height;
    const key = curves.some(k => (k.history.val_accuracy || []).length) ? "val_accuracy" : "val_loss";
    const series = curves.map(k => k.history[key] || []).filter(s => s.length);
    const all = series.flat();
    let lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
    if (hi - lo < 1e-6) { lo -= 0.01; hi += 0.01; }
    axes(ctx, w, h, lo, hi, `epoch \u2192 (${key.replace("_", " ")})`);
    const n = Math.max(2, ...series.map(s => s.length));
    curves.forEach((k, j) => {
      const s = k.history[key] || []; if (!s.length) return;
      ctx.beginPath(); ctx.strokeStyle = COLORS[j % COLORS.length]; ctx.lineWidth = 1.5;
      s.forEach((v, i) => ctx.lineTo(45 + (w - 55) * i / (n - 1), 10 + (h - 30) * (hi - v) / (hi - lo)));
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      if (s.length < 3) s.forEach((v, i) => { ctx.beginPath(); ctx.arc(45 + (w - 55) * i / (n - 1), 10 + (h - 30) * (hi - v) / (hi - lo), 3, 0, 2 * Math.PI); ctx.fill(); }); ctx.fillText(`trial ${k.trial_id} fold ${k.fold}`, w - 120, 20 + 12 * j);
    });
  }

  function render(s) {
    document.title = `${s.title} \u00b7 hpsearch`;
    $("title").firstChild.textContent = s.title + " ";
    $("directory").textContent = s.directory;
    const p = s.progress;
    $("progress-bar").style.width = `${100 * (p.fraction || 0)}%`;
    $("progress-text").textContent = `${p.done} of ${p.planned ?? "?"} ${s.kind === "study" ? "runs" : "trials"} finished` +
      (p.running ? `, ${p.running} running` : "") + (p.folds_planned && s.kind === "search" ? ` (${p.folds_done}/${p.folds_planned} folds)` : "");
    $("eta").textContent = p.complete ? "complete" : (p.eta_seconds !== null ? `ETA ${duration(p.eta_seconds)}` : "");
    $("live").textContent = s.last_write ? `last write ${duration(Math.max(0, s.now - s.last_write))} ago` : "";
    $("best-score").textContent = s.best ? fmt(s.best.mean) : "\u2013";
    $("best-desc").textContent = s.best ? `${s.kind === "study" ? "variant" : "trial"} ${s.best.trial_id}: ${s.best.describe}` + (s.best.lead ? ` (${s.best.lead})` : "") : "no completed trial yet";
    $("settings").textContent = Object.entries(s.settings).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k} ${v}`).join(" \u00b7 ");
    $("notes").textContent = (s.notes || []).join("; ");
    $("score-head").textContent = `${s.metric} (mean \u00b1 sd, n-1)`;
    const body = $("trials").tBodies[0];
    const rows = s.trials.slice().sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
    body.innerHTML = "";
    for (const t of rows) {
      const tr = body.insertRow(); tr.dataset.trial = t.trial_id; tr.id = `trial-${t.trial_id}`;
      if (s.best && t.trial_id === s.best.trial_id) tr.className = "best";
      const cells = [t.rank ?? "", t.trial_id, t.mean === null ? "\u2013" : `${fmt(t.mean)} \u00b1 ${fmt(t.std)}`,
        t.runs || (t.folds || []).length, t.status, t.describe + (t.reason ? ` (${t.reason})` : "")];
      cells.forEach((v, i) => { const td = tr.insertCell(); td.textContent = v; if (i === 4) td.className = `status-${t.status}`; if (i === 5) td.className = "config"; });
    }
    drawHistory(s.history || s.trials);
    drawCurves(s.curves);
    $("curves-caption").textContent = s.curves.length ? `Learning curves: ${s.curves.some(k => k.status === "running") ? "folds finished so far by the running trials" : "the latest trials"}` : "Learning curves appear when a fold finishes";
    polls += 1; document.body.dataset.polls = String(polls);
  }

  async function poll() {
    try {
      const res = await fetch("/api/dash/state");
      if (!res.ok) throw new Error((await res.text()).trim());
      render(await res.json());
      $("error").hidden = true;
    } catch (err) {
      $("error").textContent = `cannot read the project right now: ${err.message} (retrying)`; $("error").hidden = false;
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
