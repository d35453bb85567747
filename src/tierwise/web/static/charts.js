// Draws every chart of a page with the shipped plotly.js: an element with data-chart="ID" gets the
// figure ({data, layout, config}) in the JSON data block <script type="application/json" id="ID">.
// No inline script: the page's content security policy allows scripts from this site only.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var block = document.getElementById(el.getAttribute("data-chart"));
      if (!block) { return; }
      var fig = JSON.parse(block.textContent);
      Plotly.newPlot(el, fig.data, fig.layout, fig.config || {}).then(function () {
        el.setAttribute("data-drawn", "true");
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
