/// The page's script: tabs, forms, drawing canvases and calls to `/api/…`.
/// Hand-written, no libraries; results are PNG data URLs, each a download link.
enum PageScript {
    static let text = #"""
"use strict";
const $ = (id) => document.getElementById(id);
let downloads = 0;

// One call to the API at a time from this page; a progress note after 150 ms.
async function api(path, body) {
  const error = $("error"), progress = $("progress"), started = performance.now();
  error.hidden = true;
  const timer = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    if (seconds > 0.15) { progress.hidden = false; $("progress-text").textContent = `working… ${seconds.toFixed(1)} s`; }
  }, 100);
  document.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = true));
  try {
    const response = await fetch(path, body === undefined ? {} :
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    return answer;
  } catch (e) {
    error.textContent = e.message; error.hidden = false; throw e;
  } finally {
    clearInterval(timer); progress.hidden = true;
    document.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = false));
  }
}

function figure(src, caption) {
  const f = document.createElement("figure"), a = document.createElement("a"), img = new Image();
  img.src = src; img.alt = caption || "result";
  a.href = src; a.download = `net2net-${++downloads}.png`; a.title = "download PNG";
  a.append(img); f.append(a);
  if (caption) { const c = document.createElement("figcaption"); c.textContent = caption; f.append(c); }
  return f;
}

function showResults(target, title, answer, replace) {
  const box = $(target), block = document.createElement("div");
  const heading = document.createElement("p"), grid = document.createElement("div");
  heading.className = "result-title";
  heading.textContent = `${title} — ${answer.images.length} images in ${answer.milliseconds} ms (seed ${answer.seed})`;
  grid.className = "grid";
  if (answer.face) grid.append(figure(answer.face, "DCGAN face"));
  if (answer.input) {
    grid.append(figure(answer.input, answer.source ? `read as: ${answer.source}` : "query"));
    const arrow = document.createElement("span"); arrow.className = "arrow"; arrow.textContent = "→"; grid.append(arrow);
  }
  answer.images.forEach((src) => grid.append(figure(src)));
  block.append(heading, grid);
  if (replace) box.replaceChildren(block); else box.prepend(block);
}

const number = (id) => Number($(id).value);

// Tabs.
document.querySelectorAll("#tabs button").forEach((button) => button.addEventListener("click", () => {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b === button));
  document.querySelectorAll(".tab").forEach((t) => (t.hidden = t.id !== `tab-${button.dataset.tab}`));
  if (button.dataset.tab === "swap" || button.dataset.tab === "inpaint") loadExamples();
}));

// What the server has loaded (again after a training installs a τ).
let loaded = [];
function refreshStatus() {
  return api("/api/status").then((s) => {
    loaded = s.experiments;
    $("status").textContent = `loaded: ${loaded.join(", ")}`;
    if (loaded.includes("label-to-image") && $("swap-experiment").options.length < 2) {
      $("swap-experiment").add(new Option("label → image", "label-to-image"));
    }
    return s;
  });
}
refreshStatus().then((s) => {
  s.classes.forEach((c) => { const o = document.createElement("option"); o.value = c; $("swap-classes").append(o); });
  for (const [tab, experiment] of [["sketch", "edges-to-image"], ["inpaint", "inpainting"], ["faces", "gan-translation"]]) {
    if (!loaded.includes(experiment)) {
      const p = document.createElement("p"); p.className = "error";
      p.textContent = `${experiment} is not loaded: train it (net2net experiment train configs/${experiment}.yaml) and start the server with --models DIR.`;
      $(`tab-${tab}`).prepend(p);
    }
  }
}).catch(() => {});

// Text → image.
$("text-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const prompt = $("text-prompt").value, same = $("text-same").checked;
  const answer = await api("/api/sample", { prompt, count: number("text-count"),
    temperature: number("text-temperature"), seed: number("text-seed") });
  showResults("text-results", `“${prompt}”`, answer, !same);
});

// Images to start from: examples from the server, or an upload.
let examplesLoaded = false;
async function loadExamples() {
  if (examplesLoaded) return;
  examplesLoaded = true;
  const answer = await api("/api/examples");
  for (const target of ["swap-examples", "inpaint-examples"]) {
    answer.images.forEach((src, i) => {
      const img = new Image(); img.src = src; img.title = answer.captions[i];
      img.addEventListener("click", () => pick(target, img));
      $(target).append(img);
    });
  }
}
const picked = {};
function pick(strip, img) {
  document.querySelectorAll(`#${strip} img`).forEach((i) => i.classList.toggle("picked", i === img));
  picked[strip] = img.src;
  if (strip === "inpaint-examples") inpaintLoad(img.src);
}
function readFile(input, then) {
  input.addEventListener("change", () => {
    const file = input.files[0]; if (!file) return;
    const reader = new FileReader(); reader.onload = () => then(reader.result); reader.readAsDataURL(file);
  });
}

// Label / class swap.
readFile($("swap-file"), (url) => { picked["swap-examples"] = url; document.querySelectorAll("#swap-examples img").forEach((i) => i.classList.remove("picked")); });
$("swap-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const image = picked["swap-examples"];
  if (!image) { $("error").textContent = "pick or upload an image first"; $("error").hidden = false; return; }
  const to = $("swap-to").value;
  const answer = await api("/api/swap", { image, to, experiment: $("swap-experiment").value, count: number("swap-count") });
  showResults("swap-results", `→ “${to}”`, answer, false);
});

// A canvas drawn on with mouse, pen or finger.
function drawable(canvas, color, width, onStroke) {
  const g = canvas.getContext("2d");
  let last = null;
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
  canvas.addEventListener("pointerdown", (e) => { last = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    for (const ctx of [g, onStroke && onStroke()].filter(Boolean)) {
      ctx.strokeStyle = color; ctx.lineWidth = width; ctx.lineCap = "round";
      ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    }
    last = p;
  });
  for (const end of ["pointerup", "pointercancel", "pointerleave"]) canvas.addEventListener(end, () => (last = null));
  return g;
}
function clearCanvas(canvas) { const g = canvas.getContext("2d"); g.fillStyle = "#000"; g.fillRect(0, 0, canvas.width, canvas.height); }
function drawImageOn(canvas, url, then) {
  const img = new Image();
  img.onload = () => { const g = canvas.getContext("2d"); g.imageSmoothingEnabled = false; g.drawImage(img, 0, 0, canvas.width, canvas.height); if (then) then(); };
  img.src = url;
}

// Sketch → image.
const sketch = $("sketch-canvas");
clearCanvas(sketch);
drawable(sketch, "#fff", 16);
$("sketch-clear").addEventListener("click", () => clearCanvas(sketch));
readFile($("sketch-file"), (url) => drawImageOn(sketch, url));
$("sketch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await api("/api/query", { experiment: "edges-to-image", image: sketch.toDataURL("image/png"),
    is_query: true, count: number("sketch-count"), seed: number("sketch-seed") });
  showResults("sketch-results", "sketch", answer, false);
});

// Inpainting: the picture, and the mask painted over it (kept apart, so the
// mask can be cleared); the query is the picture with the mask in black.
const inpaint = $("inpaint-canvas"), mask = document.createElement("canvas");
mask.width = inpaint.width; mask.height = inpaint.height;
let inpaintPicture = null;
clearCanvas(inpaint);
drawable(inpaint, "rgba(220,40,40,.8)", 28, () => mask.getContext("2d"));
function inpaintLoad(url) { inpaintPicture = url; mask.getContext("2d").clearRect(0, 0, mask.width, mask.height); drawImageOn(inpaint, url); }
$("inpaint-clear").addEventListener("click", () => inpaintPicture && inpaintLoad(inpaintPicture));
$("inpaint-lower").addEventListener("click", () => {
  for (const [ctx, color] of [[mask.getContext("2d"), "#000"], [inpaint.getContext("2d"), "rgba(220,40,40,.8)"]]) {
    ctx.fillStyle = color; ctx.fillRect(0, inpaint.height / 2, inpaint.width, inpaint.height / 2);
  }
});
readFile($("inpaint-file"), inpaintLoad);
$("inpaint-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!inpaintPicture) { $("error").textContent = "pick or upload an image first"; $("error").hidden = false; return; }
  const query = document.createElement("canvas"); query.width = inpaint.width; query.height = inpaint.height;
  drawImageOn(query, inpaintPicture, async () => {
    const g = query.getContext("2d"), m = mask.getContext("2d").getImageData(0, 0, mask.width, mask.height).data;
    const picture = g.getImageData(0, 0, query.width, query.height);
    for (let i = 0; i < m.length; i += 4) if (m[i + 3] > 0) { picture.data[i] = picture.data[i + 1] = picture.data[i + 2] = 0; }
    g.putImageData(picture, 0, 0);
    const answer = await api("/api/query", { experiment: "inpainting", image: query.toDataURL("image/png"),
      is_query: true, count: number("inpaint-count") });
    showResults("inpaint-results", "filled", answer, false);
  });
});

// Faces: a DCGAN face from its seed (queried as the face, its edges or its masked half), or an upload.
let face = null;
readFile($("faces-file"), (url) => (face = url));
$("faces-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { experiment: "gan-translation", count: number("faces-count"), seed: number("faces-seed") };
  if (face) body.image = face; else { body.face_seed = number("faces-face-seed"); body.face_query = $("faces-query").value; }
  const answer = await api("/api/query", body);
  showResults("faces-results", face ? "faces for the upload" : `faces for DCGAN face ${body.face_seed} (${body.face_query})`, answer, false);
});

// Train your own τ: start, follow the server-sent events, plot, stop.
const plot = $("train-plot");
function drawPlot(progress, validation) {
  const g = plot.getContext("2d"), W = plot.width, H = plot.height, pad = 36;
  g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
  const all = progress.concat(validation);
  if (!all.length) return;
  const maxStep = Math.max(...all.map((p) => p.total || p.step), 1);
  const values = all.map((p) => p.value), low = Math.min(...values), high = Math.max(...values);
  const x = (s) => pad + (W - 2 * pad) * s / maxStep, y = (v) => H - pad - (H - 2 * pad) * (v - low) / Math.max(high - low, 1e-6);
  g.strokeStyle = "#999"; g.beginPath(); g.moveTo(pad, pad / 2); g.lineTo(pad, H - pad); g.lineTo(W - pad / 2, H - pad); g.stroke();
  g.fillStyle = "#555"; g.font = "12px sans-serif";
  g.fillText(high.toFixed(3), 2, pad); g.fillText(low.toFixed(3), 2, H - pad); g.fillText(`step ${maxStep}`, W - 90, H - 12);
  g.fillText("nats/dim: training (line), validation (dots)", pad + 8, 14);
  g.strokeStyle = "#2f5fd0"; g.lineWidth = 2; g.beginPath();
  progress.forEach((p, i) => (i ? g.lineTo(x(p.step), y(p.value)) : g.moveTo(x(p.step), y(p.value)))); g.stroke();
  g.fillStyle = "#e8710a"; validation.forEach((p) => { g.beginPath(); g.arc(x(p.step), y(p.value), 4, 0, 7); g.fill(); });
}
function followTraining() {
  const progress = [], validation = [], source = new EventSource("/api/train/events");
  source.onmessage = (message) => {
    const e = JSON.parse(message.data);
    if (e.type === "progress") progress.push({ step: e.step, total: e.total_steps, value: e.nats_per_dim });
    if (e.type === "validation") validation.push({ step: e.step, total: e.total_steps, value: e.nats_per_dim });
    if (e.message) $("train-status").textContent = e.message;
    else if (e.step) $("train-status").textContent = `step ${e.step} of ${e.total_steps}: ${e.nats_per_dim.toFixed(4)} nats/dim (${e.type})`;
    drawPlot(progress, validation);
    if (["done", "stopped", "failed"].includes(e.type)) {
      source.close();
      if (e.type === "failed") { $("error").textContent = e.message; $("error").hidden = false; }
      refreshStatus();
    }
  };
  source.onerror = () => source.close();
}
$("train-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await api("/api/train", { experiment: $("train-experiment").value, steps: number("train-steps"),
    train_images: number("train-images") });
  $("train-status").textContent = "started";
  followTraining();
});
$("train-stop").addEventListener("click", () => api("/api/train/stop", {}).then(() => ($("train-status").textContent = "stopping…")));
"""#
}
