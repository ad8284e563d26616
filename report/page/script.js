(function () {
  "use strict";
  var root = document.documentElement, errs = [];
  function fail(m) {
    errs.push(String(m));
    root.setAttribute("data-errors", String(errs.length));
    var e = document.getElementById("errors");
    if (e) { e.textContent = "JavaScript errors: " + errs.join("; "); e.hidden = false; }
  }
  window.addEventListener("error", function (ev) { fail(ev.message || "error"); });
  window.addEventListener("unhandledrejection", function (ev) { fail(ev.reason); });
  document.addEventListener("securitypolicyviolation", function (ev) { fail("CSP blocked " + ev.blockedURI + " (" + ev.violatedDirective + ")"); });
  function init() {
  try {
    var data = JSON.parse(document.getElementById("temper-data").textContent), G = data.geom;
    function smooth(y, w) {
      if (!(w > 0)) return y;
      var out = [], m = 0, k = 0;
      for (var i = 0; i < y.length; i++) {
        var v = y[i];
        if (v === null || !isFinite(v)) { out.push(null); continue; }
        k++; m = w * m + (1 - w) * v; out.push(m / (1 - Math.pow(w, k)));
      }
      return out;
    }
    function path(s, xs, ys) {
      var d = "", pen = false;
      for (var i = 0; i < xs.length; i++) {
        var x = xs[i], y = ys[i];
        if (x === null || y === null || !isFinite(x) || !isFinite(y) || (s.lx && x <= 0) || (s.ly && y <= 0)) { pen = false; continue; }
        if (s.lx) x = Math.log10(x);
        if (s.ly) y = Math.log10(y);
        var px = G.l + (x - s.x0) / (s.x1 - s.x0) * (G.w - G.l - G.r);
        var py = G.h - G.b - (y - s.y0) / (s.y1 - s.y0) * (G.h - G.t - G.b);
        d += (pen ? "L" : "M") + px.toFixed(1) + "," + py.toFixed(1);
        pen = true;
      }
      return d;
    }
    var charts = document.querySelectorAll("svg.chart[data-x0]");
    function redraw(w) {
      for (var c = 0; c < charts.length; c++) {
        var svg = charts[c], a = function (n) { return parseFloat(svg.getAttribute("data-" + n)); };
        var s = { x0: a("x0"), x1: a("x1"), y0: a("y0"), y1: a("y1"),
          lx: svg.getAttribute("data-logx") === "true", ly: svg.getAttribute("data-logy") === "true" };
        var ps = svg.querySelectorAll("path.sm");
        for (var i = 0; i < ps.length; i++) {
          var ln = data.lines[+ps[i].getAttribute("data-l")];
          ps[i].setAttribute("d", path(s, ln.x, smooth(ln.y, w)));
        }
        svg.classList.toggle("smoothed", w > 0);
      }
    }
    var inp = document.getElementById("smooth"), out = document.getElementById("smooth-v");
    if (inp) {
      inp.disabled = false;
      inp.addEventListener("input", function () { out.textContent = inp.value; redraw(+inp.value); });
    }
    var items = document.querySelectorAll(".legend li[data-l]");
    for (var i = 0; i < items.length; i++) {
      items[i].addEventListener("click", function () {
        var li = this, off = li.classList.toggle("off"), svg = document.getElementById(li.getAttribute("data-c"));
        var ps = svg.querySelectorAll('path[data-l="' + li.getAttribute("data-l") + '"]');
        for (var k = 0; k < ps.length; k++) ps[k].classList.toggle("off", off);
      });
    }
    root.setAttribute("data-ready", "1");
  } catch (e) { fail(e && e.message || e); }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
