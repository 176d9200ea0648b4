// The site's colour scales (src/heatmap.ts, playground.ts): orange -1, grey 0, blue +1.
"use strict";
const PG = window.PG = window.PG || {};
PG.ORANGE = [245, 147, 34]; PG.GREY = [232, 234, 235]; PG.BLUE = [8, 119, 189];

function mix(a, b, t) { return [0, 1, 2].map(i => Math.round(a[i] + (b[i] - a[i]) * t)); }

// d3 linear [-1, 0, 1] -> colours, clamped (links, biases, points).
PG.colorOf = function (v) {
  v = Math.max(-1, Math.min(1, v));
  return v < 0 ? mix(PG.GREY, PG.ORANGE, -v) : mix(PG.GREY, PG.BLUE, v);
};
PG.css = function (rgb) { return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`; };

// The heatmap's 31 shades: d3 quantize over [-1, 1] onto colours at 0, 1/30, ..., 1.
PG.SHADES = Array.from({ length: 31 }, (_, i) => {
  const a = i / 30;
  return a <= 0.5 ? mix(PG.ORANGE, PG.GREY, a / 0.5) : mix(PG.GREY, PG.BLUE, (a - 0.5) / 0.5);
});
PG.shade = function (v, discretize) {
  if (discretize) v = v >= 0 ? 1 : -1;
  let i = Math.floor((v + 1) / 2 * 31);
  return PG.SHADES[Math.max(0, Math.min(30, isNaN(i) ? 15 : i))];
};

// Paint an n x n map (row 0 at the top) into ImageData with the site's alpha 160.
PG.paintMap = function (ctx, values, n, discretize, alpha) {
  const img = ctx.createImageData(n, n);
  for (let k = 0; k < n * n; k++) {
    const c = PG.shade(values[k], discretize);
    img.data[4 * k] = c[0]; img.data[4 * k + 1] = c[1]; img.data[4 * k + 2] = c[2];
    img.data[4 * k + 3] = alpha === undefined ? 160 : alpha;
  }
  return img;
};

// Draw an n x n map scaled onto a canvas (nearest neighbour, like the site's small canvases).
const scratch = {};
PG.drawMap = function (canvas, values, n, discretize) {
  let tmp = scratch[n];
  if (!tmp) { tmp = scratch[n] = document.createElement("canvas"); tmp.width = tmp.height = n; }
  const tctx = tmp.getContext("2d");
  tctx.putImageData(PG.paintMap(tctx, values, n, discretize), 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
};

// Line chart of series [[y...], ...] with colours; optional bands [[lo...],[hi...],colour].
PG.lineChart = function (canvas, xs, series, colours, bands) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 4;
  ctx.clearRect(0, 0, w, h);
  let lo = Infinity, hi = -Infinity;
  const all = series.concat((bands || []).flatMap(b => [b[0], b[1]]));
  for (const s of all) for (const v of s) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!isFinite(lo)) return;
  lo = Math.min(lo, 0); if (hi <= lo) hi = lo + 1;
  const n = xs.length, x0 = xs[0], x1 = xs[n - 1] > x0 ? xs[n - 1] : x0 + 1;
  const X = x => pad + (x - x0) / (x1 - x0) * (w - 2 * pad);
  const Y = v => h - pad - (v - lo) / (hi - lo) * (h - 2 * pad);
  const stride = Math.max(1, Math.floor(n / (2 * w)));
  for (const [low, high, colour] of bands || []) {
    ctx.beginPath();
    for (let i = 0; i < n; i += stride) ctx.lineTo(X(xs[i]), Y(high[i]));
    for (let i = n - 1; i >= 0; i -= stride) ctx.lineTo(X(xs[i]), Y(low[i]));
    ctx.fillStyle = colour; ctx.fill();
  }
  series.forEach((s, k) => {
    ctx.beginPath(); ctx.strokeStyle = colours[k]; ctx.lineWidth = 1.5;
    for (let i = 0; i < n; i += stride) ctx.lineTo(X(xs[i]), Y(s[i]));
    ctx.lineTo(X(xs[n - 1]), Y(s[n - 1]));
    ctx.stroke();
  });
  ctx.fillStyle = "#666"; ctx.font = "10px sans-serif";
  ctx.fillText(hi.toPrecision(3), pad + 2, pad + 9);
};

PG.download = function (name, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
};
