/* Small SVG line charts for the fnlb dashboard.
 *
 * Our own code, no chart library: the page must work offline and fnlb commits no
 * third-party code. A chart is an <svg> (axes, grid, one path per series) plus an HTML
 * legend, so node addresses and function paths are text in the page, not pixels.
 * All names are set with textContent: function paths come from clients.
 */
"use strict";

const Charts = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 560, H = 200;
  const M = { left: 62, right: 14, top: 10, bottom: 28 };

  function svgEl(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function htmlEl(name, cls, parent, text) {
    const node = document.createElement(name);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // A tick step of 1, 2 or 5 times a power of ten giving at most `count` intervals.
  function niceStep(max, count) {
    const raw = max / count;
    const pow = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
    return 10 * pow;
  }

  // Cumulative tops and bases of series stacked in order (missing values count as 0).
  function stack(series) {
    let base = series.length ? series[0].values.map(() => 0) : [];
    return series.map(s => {
      const top = s.values.map((v, i) => base[i] + (v || 0));
      const out = { ...s, base, top };
      base = top;
      return out;
    });
  }

  function trim(v) { return String(+v.toPrecision(3)); }

  function formatSeconds(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v === 0) return "0";
    if (v < 1e-3) return trim(v * 1e6) + " µs";
    if (v < 1) return trim(v * 1e3) + " ms";
    return trim(v) + " s";
  }

  function formatRate(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v >= 1e6) return trim(v / 1e6) + "M";
    if (v >= 1e3) return trim(v / 1e3) + "k";
    return v >= 10 ? String(Math.round(v)) : trim(v);
  }

  function clock(sec) {
    const d = new Date(sec * 1000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(n => String(n).padStart(2, "0")).join(":");
  }

  class LineChart {
    // figure: the <figure> to fill; opts: {yTitle, format, unitSuffix, stacked, emptyText}
    constructor(figure, opts) {
      this.opts = opts;
      this.svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" }, figure);
      svgEl("title", {}, this.svg).textContent = figure.querySelector("figcaption").textContent;
      this.legend = htmlEl("div", "legend", figure);
    }

    // t0, t1: first and last second shown; series: [{name, color, values: [v|null per second]}]
    update(t0, t1, series) {
      const svg = this.svg;
      while (svg.childNodes.length > 1) svg.removeChild(svg.lastChild);   // keep <title>
      // Stacked charts draw each series on top of the ones before it (a share of a total).
      const drawn = this.opts.stacked ? stack(series) : series.map(s => ({ ...s, base: null, top: s.values }));
      const max = Math.max(0, ...drawn.flatMap(s => s.top.filter(v => v !== null)));
      const top = max > 0 ? max * 1.1 : 1;
      const step = niceStep(top, 4);
      const yMax = Math.ceil(top / step) * step;
      const x = t => M.left + (W - M.left - M.right) * (t - t0) / Math.max(1, t1 - t0);
      const y = v => H - M.bottom - (H - M.top - M.bottom) * v / yMax;
      this.drawAxes(t0, t1, yMax, step, x, y);
      if (max === 0) {
        const t = svgEl("text", { x: (M.left + W - M.right) / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, svg);
        t.textContent = this.opts.emptyText || "no traffic in this period";
      }
      for (const s of drawn) {
        if (s.base) this.drawArea(s, t0, x, y);
        this.drawSeries(s, t0, x, y);
      }
      this.drawLegend(series);
    }

    drawAxes(t0, t1, yMax, step, x, y) {
      const svg = this.svg, fmt = this.opts.format;
      for (let v = 0; v <= yMax + step / 2; v += step) {
        svgEl("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: "gridline" }, svg);
        const label = svgEl("text", { x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, svg);
        label.textContent = fmt(v);
      }
      svgEl("line", { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: "axisline" }, svg);
      svgEl("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axisline" }, svg);
      const title = svgEl("text", { x: 12, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle",
        transform: `rotate(-90 12 ${(M.top + H - M.bottom) / 2})` }, svg);
      title.textContent = this.opts.yTitle;
      const tickEvery = t1 - t0 > 200 ? 60 : t1 - t0 > 90 ? 30 : 15;    // 4 to 6 time labels
      for (let t = Math.ceil(t0 / tickEvery) * tickEvery; t <= t1; t += tickEvery) {
        svgEl("line", { x1: x(t), x2: x(t), y1: H - M.bottom, y2: H - M.bottom + 4, class: "axisline" }, svg);
        const label = svgEl("text", { x: x(t), y: H - M.bottom + 16, "text-anchor": "middle" }, svg);
        label.textContent = clock(t);
      }
      const unit = svgEl("text", { x: W - M.right, y: H - 2, "text-anchor": "end" }, svg);
      unit.textContent = "local time, 1 s buckets";
    }

    drawSeries(s, t0, x, y) {
      let d = "", pen = "M";
      s.top.forEach((v, i) => {
        if (v === null) { pen = "M"; return; }         // no sample: break the line
        d += `${pen}${x(t0 + i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = "L";
      });
      if (!d) return;
      const path = svgEl("path", { d, class: "series", stroke: s.color }, this.svg);
      svgEl("title", {}, path).textContent = s.name;
    }

    drawArea(s, t0, x, y) {
      const up = s.top.map((v, i) => `${x(t0 + i).toFixed(1)},${y(v).toFixed(1)}`);
      const down = s.base.map((v, i) => `${x(t0 + i).toFixed(1)},${y(v).toFixed(1)}`).reverse();
      svgEl("path", { d: `M${up.join("L")}L${down.join("L")}Z`, class: "area", fill: s.color }, this.svg);
    }

    drawLegend(series) {
      this.legend.replaceChildren();
      for (const s of series) {
        const item = htmlEl("span", "item", this.legend);
        htmlEl("span", "swatch", item).style.background = s.color;
        const name = htmlEl("span", "name", item, s.name);
        name.title = s.name;
        const last = [...s.values].reverse().find(v => v !== null);
        htmlEl("span", "val", item, this.opts.format(last === undefined ? null : last) + (this.opts.unitSuffix || ""));
      }
    }
  }

  return { LineChart, formatSeconds, formatRate, clock, htmlEl };
})();
