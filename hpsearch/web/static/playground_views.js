// The Playground's views: decision boundary with points, and the network diagram.
// Pure drawing: every number comes from the server's frame.
"use strict";
(function () {
  const PG = window.PG;
  const FEATURES = [["x", "x1", "X\u2081"], ["y", "x2", "X\u2082"], ["xSquared", "x1^2", "X\u2081\u00b2"],
    ["ySquared", "x2^2", "X\u2082\u00b2"], ["xTimesY", "x1*x2", "X\u2081X\u2082"],
    ["sinX", "sin(x1)", "sin(X\u2081)"], ["sinY", "sin(x2)", "sin(X\u2082)"]];
  PG.FEATURES = FEATURES;
  const NODE = 32, COL_W = 110, ROW_H = 44, TOP = 34, LEFT = 44;
  const SVGNS = "http://www.w3.org/2000/svg";

  // Big plot: output map (100x100), then train points (white edge) and test points (black edge).
  PG.drawBoundary = function (canvas, output, points, opts) {
    PG.drawMap(canvas, output, 100, opts.discretize);
    const ctx = canvas.getContext("2d"), s = canvas.width / 12;
    const dot = (p, edge) => {
      const x = (p[0] + 6) * s, y = (6 - p[1]) * s;
      if (x < 0 || y < 0 || x > canvas.width || y > canvas.height) return;
      ctx.beginPath(); ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fillStyle = PG.css(PG.colorOf(p[2])); ctx.fill();
      ctx.strokeStyle = edge; ctx.lineWidth = 1; ctx.stroke();
    };
    for (const p of points.train) dot(p, "white");
    if (opts.showTest) for (const p of points.test) dot(p, "black");
  };

  function el(tag, attrs, parent) {
    const node = document.createElementNS(SVGNS, tag);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  // Node positions: column 0 holds all seven inputs (off ones greyed), then hidden, output.
  function layout(frame, state) {
    const hidden = frame.shape.slice(1, -1), cols = [];
    cols.push(FEATURES.map(([flag, name, label], i) => ({
      kind: "input", flag, label, on: frame.features.includes(name),
      index: frame.features.indexOf(name), x: LEFT, y: TOP + i * ROW_H })));
    hidden.forEach((n, l) => cols.push(Array.from({ length: n }, (_, i) => ({
      kind: "hidden", layer: l, index: i, x: LEFT + (l + 1) * COL_W, y: TOP + i * ROW_H }))));
    cols.push([{ kind: "output", index: 0, x: LEFT + (hidden.length + 1) * COL_W, y: TOP }]);
    return cols;
  }

  // Build the diagram for a full frame: canvases for node maps, SVG links; returns an updater.
  PG.buildNetwork = function (box, frame, handlers) {
    box.innerHTML = "";
    const cols = layout(frame);
    const width = LEFT + (cols.length - 1) * COL_W + NODE + 20;
    const height = TOP + 7 * ROW_H;
    box.style.width = width + "px"; box.style.height = height + "px";
    const svg = el("svg", { width, height, id: "network-svg", xmlns: SVGNS }, box);
    const links = [], canvases = [], biases = [];
    // links: layer k connects node column (active inputs | hidden k-1) to column k+1
    const layerNodes = [cols[0].filter(n => n.on).sort((a, b) => a.index - b.index), ...cols.slice(1)];
    for (let k = 0; k + 1 < layerNodes.length; k++) {
      const row = [];
      layerNodes[k + 1].forEach((dst, d) => {
        row.push(layerNodes[k].map((src, s) => {
          const x1 = src.x + NODE, y1 = src.y + NODE / 2, x2 = dst.x, y2 = dst.y + NODE / 2;
          const mx = (x1 + x2) / 2;
          const path = el("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
            class: "link", id: `link-${k}-${d}-${s}` }, svg);
          el("title", {}, path);
          return path;
        }));
      });
      links.push(row);
    }
    cols.forEach((col, c) => col.forEach(node => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = NODE;
      canvas.className = "node " + node.kind + (node.kind === "input" && !node.on ? " off" : "");
      canvas.style.left = node.x + "px"; canvas.style.top = node.y + "px";
      box.appendChild(canvas);
      if (node.kind === "input") {
        const label = document.createElement("span");
        label.className = "node-label"; label.textContent = node.label;
        label.style.left = (node.x - LEFT + 2) + "px"; label.style.top = (node.y + 9) + "px";
        box.appendChild(label);
        canvas.id = "input-" + node.flag; canvas.title = `${node.label}: click to turn ${node.on ? "off" : "on"}`;
        canvas.addEventListener("click", () => handlers.toggle(node.flag, !node.on));
        if (node.on) canvases.push([canvas, "input", node.index]);
      } else {
        canvas.id = node.kind === "output" ? "node-output" : `node-${node.layer}-${node.index}`;
        const b = el("rect", { x: node.x - 7, y: node.y + NODE - 7, width: 6, height: 6, class: "bias" }, svg);
        el("title", {}, b);
        biases.push(b);
        canvases.push([canvas, "node", biases.length - 1]);
      }
    }));
    // per-layer neuron buttons
    frame.shape.slice(1, -1).forEach((n, l) => {
      const ctl = document.createElement("div");
      ctl.className = "neuron-ctl"; ctl.style.left = (LEFT + (l + 1) * COL_W - 6) + "px";
      ctl.innerHTML = `<button title="Add a neuron">+</button><button title="Remove a neuron">&minus;</button><span>${n}</span>`;
      const [plus, minus] = ctl.querySelectorAll("button");
      plus.id = `add-neuron-${l}`; minus.id = `remove-neuron-${l}`;
      plus.addEventListener("click", () => handlers.neurons(l, +1));
      minus.addEventListener("click", () => handlers.neurons(l, -1));
      box.appendChild(ctl);
    });
    const inputs = frame.inputs;
    return function update(f, discretize) {
      f.weights.forEach((m, k) => m.forEach((row, d) => row.forEach((w, s) => {
        const path = links[k][d][s], dead = f.dead[k][d][s] === 1;
        path.setAttribute("stroke", dead ? "#bbb" : PG.css(PG.colorOf(w)));
        path.setAttribute("stroke-width", Math.min(10, 1 + 1.8 * Math.abs(w)));
        path.classList.toggle("dead", dead);
        path.firstChild.textContent = dead ? "dead link (L1): weight 0" : `weight ${w.toPrecision(2)}`;
      })));
      f.biases.forEach((b, i) => {
        biases[i].setAttribute("fill", PG.css(PG.colorOf(b)));
        biases[i].firstChild.textContent = `bias ${b.toPrecision(2)}`;
      });
      for (const [canvas, kind, i] of canvases) {
        PG.drawMap(canvas, kind === "input" ? inputs[i] : f.nodes[i], 10, discretize);
      }
    };
  };
})();
