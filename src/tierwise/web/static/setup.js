// The setup page's progress: while a job runs, ask /api/setup/job every second and show its
// phase, step and percentage; when it ends, show the outcome (the link to the new run, or why
// it failed). No inline script (the CSP forbids it): the page's words come in data-* attributes.
(function () {
  "use strict";
  var panel = document.getElementById("setup-job");
  if (!panel || panel.dataset.status !== "running") { return; }
  function set(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text == null ? "" : String(text); }
  }
  function show(id, visible) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !visible; }
  }
  function phaseWord(phase) {
    if (phase === "done") { return panel.dataset.wordDonePhase; }
    return panel.dataset["word" + phase.charAt(0).toUpperCase() + phase.slice(1)] || phase;
  }
  function update(job) {
    if (!job) { return; }
    panel.dataset.status = job.status;
    set("job-status", panel.dataset["word" + job.status.charAt(0).toUpperCase() + job.status.slice(1)] || job.status);
    if (job.phase) { set("job-phase", phaseWord(job.phase)); }
    set("job-step", job.step);
    var bar = document.getElementById("job-progress");
    if (bar) { bar.value = job.percent || 0; bar.textContent = (job.percent || 0) + " %"; }
    set("job-message", job.message);
    show("job-message", !!job.message);
    if (job.status === "done") {
      set("job-run", "#" + job.run_id + " (" + (job.period || "") + ")");
      show("job-done", true);
    }
  }
  function poll() {
    fetch("/api/setup/job", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var job = body && body.job;
        update(job);
        if (job && job.status === "running") { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
