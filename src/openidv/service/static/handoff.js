// The desktop's handoff page: follow the case while the applicant continues on the phone.
(() => {
  "use strict";
  const island = JSON.parse(document.getElementById("handoff-case").textContent);
  const caseId = island.case_id;
  const texts = island.texts;  // translated on the server
  const progress = document.getElementById("handoff-progress");
  const POLL_MS = 2000;
  let last = "";
  async function poll() {
    try {
      const res = await fetch("/api/v1/cases/" + caseId, { credentials: "same-origin", cache: "no-store" });
      if (res.ok) {
        const body = await res.json();
        if (body.status !== "not_submitted" && body.state !== "capturing" && body.state !== "resubmission_requested") {
          window.location.assign(body.return_to || "/pending");
          return;
        }
        const done = (body.steps || []).filter((s) => s.done).length;
        const text = done
          ? texts.progress.replace("{done}", done).replace("{total}", body.steps.length)
          : texts.waiting;
        if (text !== last) { progress.textContent = text; last = text; }
      }
    } catch (e) { /* offline for a moment: try again */ }
    setTimeout(poll, POLL_MS);
  }
  setTimeout(poll, POLL_MS);
})();
