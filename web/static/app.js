/* tts-news: progressive enhancement. Every page works without this file. */
"use strict";

(function () {
  const page = document.body.dataset.page;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const digits = (n) => n.toLocaleString("en-US");

  function home() {
    const text = $("#text");
    const count = $("#text-count");
    if (!text || !count) return;
    const limit = Number(text.dataset.limit);
    const value = $(".count-value", count);
    const update = () => {
      value.textContent = digits(text.value.length);
      count.classList.toggle("over", text.value.length > limit);
    };
    text.addEventListener("input", update);
    update();

    const sample = $("#fill-sample");
    const status = $("#sample-status");
    sample.setAttribute("role", "button");
    sample.addEventListener("keydown", (e) => { if (e.key === " ") { e.preventDefault(); sample.click(); } });
    sample.addEventListener("click", async (e) => {
      e.preventDefault();
      try {
        const res = await fetch("/sample.json", { headers: { Accept: "application/json" } });
        if (!res.ok) throw new Error(res.statusText);
        const data = await res.json();
        text.value = data.text;
        update();
        status.textContent = "نمونے کی خبر بھر دی گئی۔";
      } catch (err) {
        window.location.href = sample.href;  // the page itself knows how to fill it in
      }
    });
  }

  function job() {
    const box = $(".job");
    if (!box || !["queued", "running"].includes(box.dataset.status)) return;
    const STAGES = JSON.parse(box.dataset.stages);  // the words the page itself uses
    const bar = $("#job-progress");
    const status = $("#job-status");
    const alertBox = $("#job-alert");
    const link = $(".episode-link");
    $$(".no-js-refresh").forEach((el) => { el.hidden = true; });
    let lastAnnounced = status.textContent.trim();
    let lastQuarter = -1;

    // Listening while it renders: say once that playback started while the rest is prepared;
    // when the episode is ready, carry on from the same place in the finished file.
    const liveAudio = $("#live-audio");
    const liveStatus = $("#live-status");
    let announcedLive = false;
    if (liveAudio) {
      liveAudio.addEventListener("playing", () => {
        if (announcedLive || box.dataset.status === "done") return;
        announcedLive = true;
        liveStatus.textContent = "آواز شروع ہو گئی ہے؛ باقی خبر تیار ہو رہی ہے۔";
      });
    }
    function handOver(data) {
      const ep = data.episode;
      if (!liveAudio || !ep) return;
      const at = liveAudio.currentTime;
      const wasPlaying = !liveAudio.paused && !liveAudio.ended;
      link.querySelector("a").href = `${ep.page_url}#t=${at.toFixed(1)}`;
      liveAudio.preload = "metadata";  // "none" until now: nothing was fetched before the listener asked
      if (at <= 0 && !wasPlaying) { liveAudio.src = ep.audio_url; return; }
      liveAudio.addEventListener("loadedmetadata", () => {
        liveAudio.currentTime = Math.min(at, liveAudio.duration || at);
        if (wasPlaying) liveAudio.play().catch(() => {});
      }, { once: true });
      liveAudio.src = ep.audio_url;
      liveStatus.textContent = "قسط تیار ہے؛ آواز اسی جگہ سے جاری ہے۔ ابواب اور متن قسط کے صفحے پر ہیں۔";
    }

    // The live region hears coarse steps only: a stage change, or each quarter of the sentences.
    function announce(data) {
      const p = data.progress;
      let message = STAGES[data.stage] || STAGES[data.status] || data.status;
      if (data.status === "running" && data.stage === "speaking" && p.total) {
        const quarter = Math.floor((4 * p.done) / p.total);
        if (quarter === lastQuarter && lastAnnounced.startsWith(STAGES.speaking)) return;
        lastQuarter = quarter;
        message = `${STAGES.speaking}: ${p.done} از ${p.total}`;
      }
      if (data.status === "done") message = `${STAGES.done}۔ قسط سننے کے لیے نیچے کا ربط استعمال کریں۔`;
      if (message !== lastAnnounced) {
        status.textContent = message;
        lastAnnounced = message;
      }
    }

    async function poll() {
      let data;
      try {
        const res = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
        data = await res.json();
      } catch (err) {
        setTimeout(poll, 3000);
        return;
      }
      const p = data.progress;
      if (p.total) { bar.max = p.total; bar.value = p.done; }
      announce(data);
      if (data.status === "done") {
        bar.max = 1; bar.value = 1;
        link.hidden = false;
        box.dataset.status = "done";
        handOver(data);
        return;
      }
      if (data.status === "failed") {
        const msg = document.createElement("p");
        msg.className = "field-error";
        msg.textContent = `آواز نہیں بن سکی: ${data.error || ""}`;
        alertBox.replaceChildren(msg);
        box.dataset.status = "failed";
        return;
      }
      setTimeout(poll, 700);
    }
    poll();
  }

  function episode() {
    const audio = $("#audio");
    if (!audio) return;
    $$("#player-controls, #transcript-controls").forEach((el) => { el.hidden = false; });
    const play = $("#play");
    const syncPlay = () => { play.textContent = audio.paused ? "چلائیں" : "روکیں"; };
    play.addEventListener("click", () => { if (audio.paused) audio.play(); else audio.pause(); });
    audio.addEventListener("play", syncPlay);
    audio.addEventListener("pause", syncPlay);
    $$("[data-skip]").forEach((b) => b.addEventListener("click", () => {
      const to = audio.currentTime + Number(b.dataset.skip);
      audio.currentTime = Math.max(0, Math.min(to, audio.duration || to));
    }));
    const speed = $("#speed");
    speed.addEventListener("change", () => { audio.playbackRate = Number(speed.value); });
    $$("[data-seek]").forEach((a) => a.addEventListener("click", (e) => {
      e.preventDefault();
      audio.currentTime = Number(a.dataset.seek);
      if (audio.paused) audio.play();
    }));
    // Coming from the job page's live player: start where the listener was (#t=SECONDS).
    const from = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
    if (from) {
      const seek = () => { audio.currentTime = Number(from[1]); };
      if (audio.readyState >= 1) seek(); else audio.addEventListener("loadedmetadata", seek, { once: true });
    }

    const cues = $$(".cue").map((el) => ({ el, start: Number(el.dataset.start), end: Number(el.dataset.end) }));
    const autoscroll = $("#autoscroll");
    let current = null;
    function highlight() {
      const t = audio.currentTime;
      // the cue being spoken, or in a pause the one just spoken
      let found = null;
      for (const c of cues) { if (c.start <= t) found = c; else break; }
      if (found === current) return;
      if (current) { current.el.classList.remove("current"); current.el.removeAttribute("aria-current"); }
      current = found;
      if (!current) return;
      current.el.classList.add("current");
      current.el.setAttribute("aria-current", "true");
      if (autoscroll.checked && !audio.paused) {
        current.el.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
      }
    }
    audio.addEventListener("timeupdate", highlight);
    audio.addEventListener("seeked", highlight);
  }

  ({ home, job, episode }[page] || (() => {}))();
}());
