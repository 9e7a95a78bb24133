// The progress bar of a running CSV import: polls the import's progress
// (JSON) every half second and reloads the page when it is done, which then
// shows the outcome. Without this script the page refreshes itself
// (<noscript> meta refresh); with it nothing reloads until the end.
"use strict";
(function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("progress: " + r.status);
        }
        return r.json();
      })
      .then(function (p) {
        if (p.state !== "running") {
          window.location.reload();
          return;
        }
        if (p.total > 0) {
          bar.max = p.total;
          bar.value = Math.min(p.done, p.total);
        } else {
          bar.removeAttribute("value");
        }
        text.textContent = p.text;
        window.setTimeout(poll, 500);
      })
      .catch(function () {
        // A lost answer (server restarting, network): try again later.
        window.setTimeout(poll, 2000);
      });
  }
  window.setTimeout(poll, 500);
})();
