// twin_scraper dashboard: draws charts and refreshes live parts of a page. Pages work
// without it (tables under every chart, a meta refresh while work is under way).
"use strict";

function drawCharts(root) {
  if (typeof Chart === "undefined") return;
  for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
    if (canvas.dataset.drawn) continue;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) continue;
    new Chart(canvas, JSON.parse(source.textContent));
    canvas.dataset.drawn = "1";
  }
}

// Each [data-live] element is replaced by its newer copy from the page it names.
async function refreshLive() {
  if (document.visibilityState !== "visible") return;
  const parts = [...document.querySelectorAll("[data-live]")];
  const urls = [...new Set(parts.map((el) => el.dataset.live))];
  for (const url of urls) {
    let html;
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      if (!response.ok) continue;
      html = await response.text();
    } catch (error) {
      continue;
    }
    const fresh = new DOMParser().parseFromString(html, "text/html");
    for (const el of parts.filter((p) => p.dataset.live === url)) {
      const match = el.id ? fresh.getElementById(el.id) : null;
      const replacement = match || (url === "/progress" ? fresh.body : null);
      if (replacement && replacement.innerHTML !== el.innerHTML) {
        el.innerHTML = replacement.innerHTML;
      }
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts(document);
  setInterval(refreshLive, 2000);
});
