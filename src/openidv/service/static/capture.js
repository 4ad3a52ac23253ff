// The capture page: camera, document photos, liveness challenges, submit.
// Talks to the JSON API with the case cookie; the server decides everything.
"use strict";
(function () {
  const flow = JSON.parse(document.getElementById("flow").textContent);
  const api = "/api/v1/cases/" + flow.case_id;
  const $ = (id) => document.getElementById(id);
  const video = $("video"), canvas = $("canvas"), guide = $("guide");
  const instruction = $("instruction"), feedback = $("feedback");
  const shoot = $("shoot"), faceStart = $("face-start"), submitBtn = $("submit");
  const GUIDES = { document_front: "card", document_back: "card", passport_page: "page", liveness: "face" };
  // Wording comes translated from the server (the page's JSON island): T(name, {placeholder: value})
  // for the script's own texts, S(text) for the English texts the API sends (verdicts, guidance)
  const T = (name, values) => flow.texts[name].replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? values[k] : m));
  const S = (text) => (text && flow.server_texts[text]) || text;
  const TITLES = {
    document_front: T("title_document_front", { document: flow.document }),
    document_back: T("title_document_back", { document: flow.document }),
    passport_page: T("title_passport_page"),
    liveness: T("title_liveness"),
  };
  const HINTS = {
    document_front: T("hint_document_front"),
    document_back: T("hint_document_back"),
    passport_page: T("hint_passport_page"),
    liveness: T("hint_liveness"),
  };
  let steps = flow.steps.map((s) => s.step);
  let done = new Set(flow.steps.filter((s) => s.done).map((s) => s.step));
  let current = null;

  // Live regions (#instruction, #feedback) are announced when their text changes: write only changes,
  // or a screen reader repeats the same hint at every frame
  function tell(text) { if (instruction.textContent !== text) instruction.textContent = text; }
  function say(text, kind) {
    feedback.textContent = text;
    feedback.className = "feedback " + (kind || "");
  }
  function markSteps() {
    document.querySelectorAll("#steps li").forEach((li) => {
      li.classList.toggle("done", done.has(li.dataset.step));
      li.classList.toggle("current", li.dataset.step === current);
      li.dataset.done = done.has(li.dataset.step) ? "true" : "false";
      if (li.dataset.step === current) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    });
    const warning = $("light-warning");  // flashing colours ahead: warned before the face check starts
    if (warning) warning.hidden = current !== "liveness";
    document.body.dataset.step = current || "complete";
  }
  async function call(path, options) {
    const res = await fetch(api + path, Object.assign({ credentials: "same-origin" }, options || {}));
    let body = {};
    try { body = await res.json(); } catch (e) { body = {}; }
    return { ok: res.ok, status: res.status, body: body };
  }
  function errorText(r) {
    return (r.body && r.body.error && r.body.error.message) || T("went_wrong", { status: r.status });
  }
  function offerVideoCall() { $("fallback").hidden = false; }

  async function openCamera(facing, width, height) {
    if (video.srcObject) video.srcObject.getTracks().forEach((t) => t.stop());
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: facing, width: { ideal: width }, height: { ideal: height } },
    });
    video.srcObject = stream;
    // a selfie preview is shown mirrored, as people expect ("turn to your left" then moves the
    // picture the same way); the frames sent to the server are not mirrored (grab draws the raw video)
    video.style.transform = facing === "user" ? "scaleX(-1)" : "";
    await video.play();
    await new Promise((ok) => (video.videoWidth ? ok() : video.addEventListener("loadeddata", ok, { once: true })));
  }
  function grab(maxWidth, quality) {
    const scale = Math.min(1, maxWidth / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((ok) => canvas.toBlob(ok, "image/jpeg", quality));
  }

  // Live framing hints for document steps: light, glare and focus measured on a small copy of
  // the video a few times a second. Advice only; the server decides on the photo itself.
  const probe = document.createElement("canvas");
  probe.width = 160; probe.height = 120;
  let hintTimer = null;
  function framingHint() {
    if (!video.videoWidth) return "";
    const ctx = probe.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, probe.width, probe.height);
    const px = ctx.getImageData(0, 0, probe.width, probe.height).data;
    let sum = 0, clipped = 0, grad = 0;
    const luma = new Float32Array(probe.width * probe.height);
    for (let i = 0, j = 0; i < px.length; i += 4, j++) {
      const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      luma[j] = y; sum += y;
      if (px[i] >= 250 && px[i + 1] >= 250 && px[i + 2] >= 250) clipped++;
    }
    for (let r = 0; r < probe.height; r++) {
      for (let c = 1; c < probe.width; c++) grad += Math.abs(luma[r * probe.width + c] - luma[r * probe.width + c - 1]);
    }
    const n = luma.length, mean = sum / n;
    if (mean < 45) return T("too_dark");
    if (mean > 225) return T("washed_out");
    if (clipped / n > 0.04) return T("glare");
    if (grad / n < 2.0) return T("focus");
    return "";
  }
  function startHints() {
    stopHints();
    hintTimer = setInterval(() => {
      if (!current || current === "liveness") return;
      const hint = framingHint();
      tell(hint || HINTS[current]);
      instruction.dataset.hint = hint ? "warning" : "";
    }, 400);
  }
  function stopHints() { if (hintTimer) clearInterval(hintTimer); hintTimer = null; }

  async function nextStep() {
    const previous = current;
    current = steps.find((s) => !done.has(s)) || null;
    markSteps();
    // a new step: its heading takes the focus (read out; Tab goes on to its controls), since the
    // button that had it may now be hidden
    if (previous !== null && previous !== current) $("step-title").focus();
    shoot.hidden = faceStart.hidden = submitBtn.hidden = true;
    stopHints();
    setTimeout(() => { if (feedback.classList.contains("good")) say(""); }, 1500);  // "Got it." fades
    if (!current) {
      $("step-title").textContent = T("all_done");
      tell(T("captured"));
      guide.className = "guide";
      submitBtn.hidden = false;
      return;
    }
    $("step-title").textContent = TITLES[current];
    guide.className = "guide " + GUIDES[current];
    tell(HINTS[current]);
    try {
      if (current === "liveness") {
        await openCamera("user", 640, 480);
        faceStart.hidden = false;
        faceStart.disabled = false;
      } else {
        await openCamera("environment", 1920, 1080);
        shoot.hidden = false;
        shoot.disabled = false;
        startHints();
      }
    } catch (e) {
      say(T("no_camera", { error: e.name }), "bad");
      offerVideoCall();
    }
  }

  async function sendDocument(blob) {
    shoot.disabled = true;
    say(T("checking_photo"));
    const r = await call("/captures/" + current, { method: "POST", headers: { "Content-Type": blob.type || "image/jpeg" }, body: blob });
    if (r.ok && r.body.accepted) {
      done.add(current);
      say(T("got_it"), "good");
      return nextStep();
    }
    shoot.disabled = false;
    if (r.ok) {
      say((r.body.messages || []).map(S).join(" ") + " " + T("attempts_left", { count: r.body.attempts_left }), "bad");
      if (r.body.attempts_left <= 0) { shoot.disabled = true; offerVideoCall(); }
    } else {
      say(errorText(r), "bad");
      if (r.body.error && r.body.error.code === "attempts_exhausted") { shoot.disabled = true; offerVideoCall(); }
    }
  }
  shoot.addEventListener("click", async () => sendDocument(await grab(1920, 0.92)));
  const file = $("file");
  if (file) file.addEventListener("change", () => file.files[0] && sendDocument(file.files[0]));

  async function runLiveness() {
    faceStart.disabled = true;
    say("");
    const start = await call("/liveness/start", { method: "POST" });
    if (!start.ok) { say(errorText(start), "bad"); offerVideoCall(); return; }
    document.body.dataset.challenges = start.body.challenges.join(",");
    tell(T("look_straight"));
    let finished = false;
    const deadline = Date.now() + start.body.expires_in_s * 1000;
    while (!finished && Date.now() < deadline) {
      const t0 = performance.now();
      const blob = await grab(640, 0.85);
      const r = await call("/liveness/frames?ts=" + (Date.now() / 1000).toFixed(3), {
        method: "POST", headers: { "Content-Type": "image/jpeg" }, body: blob,
      });
      if (!r.ok) {
        say(errorText(r), "bad");
        if (sessionLost(r)) return restartLiveness();
        break;
      }
      const p = r.body;
      if (p.done || p.expired) finished = true;
      else tell(p.instruction ? capitalise(S(p.instruction)) + (p.guidance && p.guidance !== p.instruction ? " · " + S(p.guidance) : "") : (S(p.guidance) || T("look_straight")));
      if (!finished && p.screen_colour) {
        // the next frame must be taken under this colour: paint it, let the camera see it, then grab
        await showLight(p.screen_colour);
        continue;
      }
      hideLight();
      const wait = 90 - (performance.now() - t0);
      if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
    }
    hideLight();
    tell(T("checking"));
    const end = await call("/liveness/finish", { method: "POST" });
    if (end.ok && end.body.accepted) {
      done.add("liveness");
      say(T("thank_you"), "good");
      return nextStep();
    }
    say(end.ok ? S(end.body.message) : errorText(end), "bad");
    if (sessionLost(end)) return restartLiveness();
    if (end.ok && end.body.retry) { faceStart.disabled = false; faceStart.hidden = false; faceStart.textContent = T("face_again"); }
    else offerVideoCall();
  }
  // The server that held this face check is gone (a restart, a failover): the check starts again,
  // after the message has been on screen a moment; it takes over the interrupted attempt
  const RESTART_PAUSE_MS = 2500;
  let restartsLeft = 2;
  function sessionLost(r) { return r.status === 409 && r.body.error && r.body.error.code === "liveness_session_lost"; }
  async function restartLiveness() {
    hideLight();
    if (restartsLeft <= 0) { faceStart.disabled = false; faceStart.hidden = false; faceStart.textContent = T("face_again"); return; }
    restartsLeft -= 1;
    await new Promise((ok) => setTimeout(ok, RESTART_PAUSE_MS));
    return runLiveness();
  }
  // The screen-light step: the server names a colour for the next frame; the face, close to the
  // screen, reflects it, a replayed video cannot. Two animation frames let the colour reach the
  // display, LIGHT_SETTLE_MS more let the camera expose a frame under it.
  const light = $("screen-light");
  const LIGHT_SETTLE_MS = 120;
  // WCAG 2.3.1 (three flashes): a colour stays at least MIN_COLOUR_MS, so the screen changes at most
  // twice a second whatever the pace of the frames (3 frames per colour take about that long anyway)
  const MIN_COLOUR_MS = 500;
  let paintedAt = 0;
  const nextPaint = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  async function showLight(colour) {
    if (light.hidden || light.dataset.colour !== colour) {
      const wait = paintedAt + MIN_COLOUR_MS - performance.now();
      if (!light.hidden && wait > 0) await new Promise((ok) => setTimeout(ok, wait));
      paintedAt = performance.now();
    }
    light.style.background = colour;
    light.dataset.colour = colour;
    light.hidden = false;
    await nextPaint();
    await new Promise((ok) => setTimeout(ok, LIGHT_SETTLE_MS));
  }
  function hideLight() { light.hidden = true; delete light.dataset.colour; }
  function capitalise(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
  faceStart.addEventListener("click", runLiveness);

  submitBtn.addEventListener("click", async () => {
    submitBtn.disabled = true;
    say(T("submitting"));
    const r = await call("/submit", { method: "POST" });
    // an integrator's case goes back to its site (return_to carries the case id and state)
    if (r.ok) { window.location.assign(r.body.return_to || "/pending"); return; }
    submitBtn.disabled = false;
    say(errorText(r), "bad");
  });
  $("video-call-link").addEventListener("click", async (e) => {
    e.preventDefault();
    const r = await call("/video-call", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    if (r.ok) window.location.assign(r.body.return_to || "/video-call"); else say(errorText(r), "bad");
  });

  nextStep();
})();
