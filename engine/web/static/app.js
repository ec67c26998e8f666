// Progressive enhancement only: every page works without it.
(function () {
  "use strict";
  // Evaluation progress: poll the job and update the bar; go to the results when done.
  var job = document.getElementById("job");
  if (job && (job.dataset.status === "queued" || job.dataset.status === "running")) {
    var id = job.dataset.job;
    var timer = setInterval(function () {
      fetch("/jobs/" + id + ".json", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
        var bar = document.getElementById("job-progress");
        if (j.percent !== null && j.percent !== undefined) { bar.value = j.percent; }
        document.getElementById("job-status").textContent = j.status_zh;
        document.getElementById("n-read").textContent = j.n_read;
        document.getElementById("n-valid").textContent = j.n_valid;
        document.getElementById("n-rejected").textContent = j.n_rejected;
        if (j.status === "done" && j.run_id) { clearInterval(timer); window.location.href = "/runs/" + j.run_id; }
        else if (j.status === "done" || j.status === "failed") { clearInterval(timer); window.location.reload(); }
      }).catch(function () {});
    }, 1000);
  }
  // Filters apply as soon as a choice is made.
  var filters = document.getElementById("filters");
  if (filters) {
    Array.prototype.forEach.call(filters.querySelectorAll("select"), function (s) {
      s.addEventListener("change", function () { filters.submit(); });
    });
  }
})();
