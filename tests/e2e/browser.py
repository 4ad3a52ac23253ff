"""Launching Debian's chromium with a fake camera (Playwright, never ``playwright install``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
BASE_ARGS = (
    "--use-fake-device-for-media-stream",  # a fake camera device
    "--use-fake-ui-for-media-stream",  # camera permission granted without a prompt
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

#: Records every getUserMedia call in ``window.__cameraCalls`` (and when the last stream arrived,
#: ``window.__cameraAt``, ms on the page clock), when the liveness challenges appeared
#: (``window.__challengesAt``) and every text the page shows in ``#instruction`` in
#: ``window.__instructions`` (in order, repeats collapsed), and the colours the screen-light overlay
#: was painted with in ``window.__screenColours`` (computed "rgb(r, g, b)", repeats collapsed) and when
#: each was seen in ``window.__screenColourAt`` (ms on the page clock).
RECORDER = """
(() => {
  window.__cameraCalls = 0;
  window.__instructions = [];
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      window.__cameraCalls += 1;
      const stream = await original(c);
      window.__cameraAt = performance.now();
      return stream;
    };
  }
  document.addEventListener("DOMContentLoaded", () => {
    new MutationObserver(() => {
      if (document.body.dataset.challenges && !window.__challengesAt) window.__challengesAt = performance.now();
    }).observe(document.body, { attributes: true, attributeFilter: ["data-challenges"] });
    const el = document.getElementById("instruction");
    if (!el) return;
    const note = () => {
      const t = el.textContent.trim();
      const seen = window.__instructions;
      if (t && seen[seen.length - 1] !== t) seen.push(t);
    };
    note();
    new MutationObserver(note).observe(el, { childList: true, characterData: true, subtree: true });
    const light = document.getElementById("screen-light");
    if (!light) return;
    window.__screenColours = [];
    window.__screenColourAt = [];
    new MutationObserver(() => {
      if (light.hidden) return;
      const painted = getComputedStyle(light).backgroundColor;
      const seen = window.__screenColours;
      if (seen[seen.length - 1] !== painted) { seen.push(painted); window.__screenColourAt.push(performance.now()); }
    }).observe(light, { attributes: true, attributeFilter: ["style", "hidden", "data-colour"] });
  });
})();
"""


def launch(playwright: Playwright, camera_file: Path | None) -> Browser:
    """Headless chromium whose camera plays ``camera_file`` (Y4M, looped); Chromium's test pattern when None."""
    args = list(BASE_ARGS)
    if camera_file is not None:
        args.append(f"--use-file-for-fake-video-capture={camera_file}")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
